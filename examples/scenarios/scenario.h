// Shared by the C scenarios: $SNAG_READY, $SNAG_TRUTH and done files are written whole (a temp
// file, then rename), so a test polling for them never reads half a file. See README.md.
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_atomically(const char *path, const char *text) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
    fprintf(stderr, "scenario: cannot write %s: %s\n", tmp, strerror(errno));
    exit(3);
  }
  if (rename(tmp, path) != 0) {
    fprintf(stderr, "scenario: cannot rename to %s: %s\n", path, strerror(errno));
    exit(3);
  }
}
