# stack_words: the selected thread's registers and the words at the top of its stack, the way
# gdb prints them; the same file runs under `gdb -batch -x` and `snag exec -x`.
p $rip
p/x $rsp
p $rsp
x/4ga $rsp
x/8xb $rsp
x/2dg $rsp
x/3xw $rsp
printf "rsp=%p rip=%p\n", $rsp, $rip
set $top = *(long *)$rsp
output/x $top
echo \n
if $top != 0
  echo top of stack holds a non-zero word\n
else
  echo top of stack holds zero\n
end
