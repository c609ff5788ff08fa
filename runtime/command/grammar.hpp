// PEGTL grammar of the command language: C-like expressions, printf arguments and script blocks.
// One rule per line; must<> after a committing token so errors point at the right column.
#pragma once

#include <tao/pegtl.hpp>

namespace snag::command::grammar {

namespace pg = tao::pegtl;
using namespace tao::pegtl;

struct ws : star<blank> {};

// ---- tokens ----
struct kw_sizeof : TAO_PEGTL_KEYWORD("sizeof") {};
struct kw_struct : TAO_PEGTL_KEYWORD("struct") {};
struct kw_union : TAO_PEGTL_KEYWORD("union") {};
struct kw_enum : TAO_PEGTL_KEYWORD("enum") {};
struct hex_digits : plus<xdigit> {};
struct hex_number : seq<one<'0'>, one<'x', 'X'>, must<hex_digits>> {};
struct dec_number : plus<digit> {};
struct int_suffix : star<one<'u', 'U', 'l', 'L'>> {};
struct number : seq<sor<hex_number, dec_number>, int_suffix, not_at<identifier_other>> {};
struct escape : seq<one<'\\'>, any> {};
struct char_close : one<'\''> {};
struct char_literal : seq<one<'\''>, sor<escape, not_one<'\'', '\\'>>, must<char_close>> {};
struct string_close : one<'"'> {};
struct string_literal : seq<one<'"'>, star<sor<escape, not_one<'"', '\\'>>>, must<string_close>> {};
// $name, $1 (history), $ and $$ and $$2 (history from the end), $_ (last x address).
struct variable : seq<one<'$'>, sor<seq<one<'$'>, star<digit>>, star<identifier_other>>> {};
struct symbol : seq<not_at<kw_sizeof>, identifier> {};

// ---- type names, for casts and sizeof ----
struct kw_type_word : sor<TAO_PEGTL_KEYWORD("unsigned"), TAO_PEGTL_KEYWORD("signed"),
                          TAO_PEGTL_KEYWORD("char"), TAO_PEGTL_KEYWORD("short"),
                          TAO_PEGTL_KEYWORD("int"), TAO_PEGTL_KEYWORD("long"),
                          TAO_PEGTL_KEYWORD("void"), TAO_PEGTL_KEYWORD("_Bool"),
                          TAO_PEGTL_KEYWORD("bool"), TAO_PEGTL_KEYWORD("float"),
                          TAO_PEGTL_KEYWORD("double"), TAO_PEGTL_KEYWORD("const"),
                          TAO_PEGTL_KEYWORD("volatile")> {};
struct fixed_width_int : seq<opt<one<'u'>>, TAO_PEGTL_STRING("int"),
                             sor<TAO_PEGTL_STRING("8"), TAO_PEGTL_STRING("16"),
                                 TAO_PEGTL_STRING("32"), TAO_PEGTL_STRING("64")>,
                             TAO_PEGTL_STRING("_t"), not_at<identifier_other>> {};
struct libc_typedef : sor<TAO_PEGTL_KEYWORD("size_t"), TAO_PEGTL_KEYWORD("ssize_t"),
                          TAO_PEGTL_KEYWORD("uintptr_t"), TAO_PEGTL_KEYWORD("intptr_t"),
                          TAO_PEGTL_KEYWORD("ptrdiff_t"), TAO_PEGTL_KEYWORD("pid_t"),
                          TAO_PEGTL_KEYWORD("off_t")> {};
struct base_type_word : sor<kw_type_word, fixed_width_int, libc_typedef> {};
struct base_type : seq<base_type_word, star<ws, base_type_word>> {};
struct tagged_type : seq<sor<kw_struct, kw_union, kw_enum>, ws, identifier> {};
// A typedef only counts as a type when a '*' follows: `(x)` stays a parenthesised expression.
struct named_pointer_type : seq<identifier, ws, at<one<'*'>>> {};
struct type_name : seq<sor<tagged_type, base_type, named_pointer_type>, star<ws, one<'*'>>> {};
struct cast_prefix : seq<one<'('>, ws, type_name, ws, one<')'>> {};
// sizeof takes any type name, typedefs without '*' included: no expression can follow it.
struct sizeof_type : seq<one<'('>, ws, sor<type_name, identifier>, ws, one<')'>> {};

// ---- expressions, C precedence from tightest to loosest ----
struct expr;
struct unary;
struct paren_close : one<')'> {};
struct paren_expr : seq<one<'('>, ws, must<expr>, ws, must<paren_close>> {};
struct sizeof_expr : seq<kw_sizeof, ws, must<sizeof_type>> {};
struct primary : sor<number, char_literal, string_literal, variable, sizeof_expr, symbol, paren_expr> {};
struct index_close : one<']'> {};
struct index_tail : seq<one<'['>, ws, must<expr>, ws, must<index_close>> {};
struct member_name : identifier {};
struct member_tail : seq<sor<TAO_PEGTL_STRING("->"), one<'.'>>, ws, must<member_name>> {};
struct postfix : seq<primary, star<ws, sor<index_tail, member_tail>>> {};
struct unary_op : sor<one<'-'>, one<'!'>, one<'~'>, one<'*'>, one<'&'>> {};
struct prefixed : seq<unary_op, ws, must<unary>> {};
struct cast_expr : seq<cast_prefix, ws, must<unary>> {};
struct unary : sor<prefixed, cast_expr, postfix> {};

struct mul_op : sor<one<'*'>, one<'/'>, one<'%'>> {};
struct mul_tail : seq<mul_op, ws, must<unary>> {};
struct multiplicative : seq<unary, star<ws, mul_tail>> {};
struct add_op : sor<one<'+'>, one<'-'>> {};
struct add_tail : seq<add_op, ws, must<multiplicative>> {};
struct additive : seq<multiplicative, star<ws, add_tail>> {};
struct shift_op : sor<TAO_PEGTL_STRING("<<"), TAO_PEGTL_STRING(">>")> {};
struct shift_tail : seq<shift_op, ws, must<additive>> {};
struct shift : seq<additive, star<ws, shift_tail>> {};
struct rel_op : sor<TAO_PEGTL_STRING("<="), TAO_PEGTL_STRING(">="), one<'<'>, one<'>'>> {};
struct rel_tail : seq<rel_op, ws, must<shift>> {};
struct relational : seq<shift, star<ws, rel_tail>> {};
struct eq_op : sor<TAO_PEGTL_STRING("=="), TAO_PEGTL_STRING("!=")> {};
struct eq_tail : seq<eq_op, ws, must<relational>> {};
struct equality : seq<relational, star<ws, eq_tail>> {};
struct bitand_op : seq<one<'&'>, not_at<one<'&'>>> {};
struct bitand_tail : seq<bitand_op, ws, must<equality>> {};
struct bit_and : seq<equality, star<ws, bitand_tail>> {};
struct xor_tail : seq<one<'^'>, ws, must<bit_and>> {};
struct bit_xor : seq<bit_and, star<ws, xor_tail>> {};
struct bitor_op : seq<one<'|'>, not_at<one<'|'>>> {};
struct bitor_tail : seq<bitor_op, ws, must<bit_xor>> {};
struct bit_or : seq<bit_xor, star<ws, bitor_tail>> {};
struct and_tail : seq<TAO_PEGTL_STRING("&&"), ws, must<bit_or>> {};
struct logical_and : seq<bit_or, star<ws, and_tail>> {};
struct or_tail : seq<TAO_PEGTL_STRING("||"), ws, must<logical_and>> {};
struct logical_or : seq<logical_and, star<ws, or_tail>> {};
struct assign_op : seq<one<'='>, not_at<one<'='>>> {};
struct assign_tail : seq<assign_op, ws, must<expr>> {};
struct expr : seq<logical_or, opt<ws, assign_tail>> {};

struct end_of_expression : eof {};
struct expression_line : seq<ws, must<expr>, ws, must<end_of_expression>> {};
// printf "format", arg, arg...
struct printf_format : string_literal {};
struct printf_line : seq<ws, must<printf_format>, ws, star<one<','>, ws, must<expr>, ws>,
                         must<end_of_expression>> {};

// ---- scripts: lines and blocks ----
struct kw_define : TAO_PEGTL_KEYWORD("define") {};
struct kw_document : TAO_PEGTL_KEYWORD("document") {};
struct kw_if : TAO_PEGTL_KEYWORD("if") {};
struct kw_while : TAO_PEGTL_KEYWORD("while") {};
struct kw_commands : TAO_PEGTL_KEYWORD("commands") {};
struct kw_else : TAO_PEGTL_KEYWORD("else") {};
struct kw_end : TAO_PEGTL_KEYWORD("end") {};

struct comment : seq<one<'#'>, until<at<eolf>>> {};
struct line_text : plus<not_at<eolf>, any> {};
struct blank_line : seq<ws, opt<comment>, eolf> {};
struct end_line : seq<ws, kw_end, ws, eolf> {};
struct else_line : seq<ws, kw_else, ws, eolf> {};
struct command_name : plus<sor<identifier_other, one<'-'>, one<'.'>>> {};
struct head_end : seq<ws, eolf> {};
struct define_head : seq<ws, kw_define, ws, must<command_name>, must<head_end>> {};
struct document_head : seq<ws, kw_document, ws, must<command_name>, must<head_end>> {};
struct condition : line_text {};
struct if_head : seq<ws, kw_if, ws, must<condition>, eolf> {};
struct while_head : seq<ws, kw_while, ws, must<condition>, eolf> {};
struct breakpoint_spec : star<not_at<eolf>, any> {};
struct commands_head : seq<ws, kw_commands, ws, breakpoint_spec, eolf> {};

struct statement;
struct body : star<statement> {};
struct block_end : end_line {};
struct doc_line : seq<not_at<end_line>, line_text, eolf> {};
struct doc_blank : seq<not_at<end_line>, ws, eol> {};
struct define_block : seq<define_head, body, must<block_end>> {};
struct document_block : seq<document_head, star<sor<doc_line, doc_blank>>, must<block_end>> {};
struct else_part : seq<else_line, body> {};
struct if_block : seq<if_head, body, opt<else_part>, must<block_end>> {};
struct while_block : seq<while_head, body, must<block_end>> {};
struct commands_block : seq<commands_head, body, must<block_end>> {};
struct simple_line : seq<ws, not_at<sor<end_line, else_line>>, line_text, eolf> {};
struct statement : seq<not_at<eof>, sor<define_block, document_block, if_block, while_block,
                                        commands_block, blank_line, simple_line>> {};
struct script_end : eof {};
struct script : seq<star<statement>, must<script_end>> {};

}  // namespace snag::command::grammar
