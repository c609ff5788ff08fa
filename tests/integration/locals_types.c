// Locals of many C types for test_exec_vs_gdb.py's `bt full` comparison: main fills them, says
// it is ready ($SNAG_READY), then waits in pause() to be dumped with gcore.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum color { RED, GREEN = 5, BLUE };
struct bits { unsigned a : 3; int b : 5; unsigned c : 1; };
struct inner { short s; char tag[8]; };
struct outer {
  int n;
  struct inner in;
  double d;
  float f;
  void *p;
  const char *name;
  enum color col;
  bool ok;
};
union word { int i; char c[4]; };
int counter = 7;

int main(void) {
  char line[64];
  snprintf(line, sizeof line, "tick %d\n", 3);
  char full[4] = {'a', 'b', 'c', 'd'};
  int zeros[20];
  memset(zeros, 0, sizeof zeros);
  int mixed[30];
  for (int i = 0; i < 30; i++)
    mixed[i] = i < 12 ? 1 : i;
  long two[2][3] = {{1, 2, 3}, {4, 5, 6}};
  struct bits b = {5, -3, 1};
  struct outer o = {42, {-2, "hi\t\"x"}, 0.1, 1.5f, &counter, "name\001\377 \303\251", GREEN, true};
  union word w;
  w.i = 0x41424344;
  enum color other = (enum color)3;
  char c = 'A', nul = 0, nl = '\n';
  unsigned char uc = 200;
  signed char sc = -5;
  double neg = -2.5e-10;
  int *ip = &counter;
  const char *empty = "";
  char many[300];
  memset(many, 'x', 299);
  many[299] = 0;
  const char *longp = many;
  int (*fp)(void) = main;
  static int local_static = 9;
  const char *ready = getenv("SNAG_READY");
  FILE *f = ready ? fopen(ready, "w") : NULL;
  if (f) {
    fputs("ready\n", f);
    fclose(f);
  }
  pause();
  return line[0] + full[0] + zeros[0] + mixed[0] + (int)two[0][0] + b.a + o.n + w.i + other + c + nul + nl +
         uc + sc + (int)neg + *ip + empty[0] + longp[0] + (fp != 0) + local_static;
}
