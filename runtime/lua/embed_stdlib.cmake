# Writes OUT: a C++ file holding every Lua file under ROOT, so the snag binary carries the stdlib
# it was built with (runtime/lua/stdlib_files.hpp). Run by the build: cmake -DROOT= -DOUT= -P this.
file(GLOB_RECURSE files RELATIVE "${ROOT}" "${ROOT}/*.lua")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  file(READ "${ROOT}/${f}" text)
  string(FIND "${text}" ")snag_lua\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${f} contains the raw-string delimiter )snag_lua\"")
  endif()
  string(APPEND body "    {\"${f}\", R\"snag_lua(${text})snag_lua\"},\n")
endforeach()
list(LENGTH files count)
file(WRITE "${OUT}.tmp"
  "// Generated from stdlib/ by runtime/lua/embed_stdlib.cmake; do not edit.\n"
  "#include \"lua/stdlib_files.hpp\"\n\n"
  "namespace snag {\n\n"
  "const EmbeddedFile kStdlibFiles[] = {\n${body}    {nullptr, nullptr},\n};\n"
  "const size_t kStdlibFileCount = ${count};\n\n"
  "}  // namespace snag\n")
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
