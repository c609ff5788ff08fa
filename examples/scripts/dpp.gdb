# dpp ADDR N: "dump pointer pointers" — for N words from ADDR, print the word's address, then
# examine what the word points at (x/ga prints it with its symbol). Stops at the first word that
# is not a readable address, as gdb does. Runs unchanged in gdb and in snag:
#   gdb -batch -c CORE EXE -x dpp.gdb -ex 'dpp $rsp 8'
#   snag exec CORE -x dpp.gdb -ex 'dpp $rsp 8'
define dpp
  set $i = 0
  set $p = $arg0
  while $i < $arg1
    printf "%p: ", $p
    x/ga *(long *)$p
    set $i = $i + 1
    set $p = $p + 8
  end
end
document dpp
Dump pointers: dpp ADDR N prints N words from ADDR and what each one points at.
end
