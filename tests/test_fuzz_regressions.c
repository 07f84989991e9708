/* Replays every seed under fuzz/corpus/<target>/ and every input that once crashed a fuzz target,
 * fuzz/regressions/<target>/, through the target's own entry function (fuzz/fuzz_<target>.c, compiled into
 * this program), in the normal build. An entry aborts on a broken promise of the API; the sanitizer build
 * (scripts/test.sh) also catches memory errors and leaks on these inputs. Each folder must name a known
 * target, and each target must have seeds. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"

/* The entries, one translation unit each in the fuzz build; their static names do not clash. */
#include "../fuzz/fuzz_detfile.c"
#include "../fuzz/fuzz_eval.c"
#include "../fuzz/fuzz_image.c"
#include "../fuzz/fuzz_model_json.c"
#include "../fuzz/fuzz_model_weights.c"
#include "../fuzz/fuzz_video.c"
#include "../fuzz/model_check.c"

typedef struct fuzz_target {
  const char *name;
  int (*entry)(const uint8_t *data, size_t size);
} fuzz_target;

static const fuzz_target targets[] = {
    {"fuzz_model_json", fuzz_model_json},
    {"fuzz_model_weights", fuzz_model_weights},
    {"fuzz_image", fuzz_image},
    {"fuzz_detfile", fuzz_detfile},
    {"fuzz_eval", fuzz_eval},
    {"fuzz_video", fuzz_video},
};
#define TARGET_COUNT (sizeof targets / sizeof targets[0])

/* The whole file in a buffer of exactly its size (so that a read past the end shows under AddressSanitizer,
 * as it would under libFuzzer); NULL when it cannot be read. */
static uint8_t *read_input(const char *path, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *data = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
  if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc(size ? (size_t)size : 1)) != NULL &&
      fread(data, 1, (size_t)size, f) != (size_t)size) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *size_out = (size_t)size;
  return data;
}

static int is_input(const struct dirent *entry) {
  return entry->d_name[0] != '.' && strcmp(entry->d_name, "README.md") != 0;
}

/* Runs every file of `dir` through `target`; returns how many ran. */
static size_t replay_folder(const fuzz_target *target, const char *dir) {
  struct dirent **names = NULL;
  int n = scandir(dir, &names, is_input, alphasort);
  if (n < 0) return 0;
  size_t ran = 0;
  for (int i = 0; i < n; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    free(names[i]);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    size_t size = 0;
    uint8_t *data = read_input(path, &size);
    CHECK(data != NULL);
    if (!data) continue;
    /* Named before the run: when an entry aborts, the last line says which input did it. */
    printf("%s %s (%zu bytes)\n", target->name, path, size);
    fflush(stdout);
    CHECK(target->entry(data, size) == 0);
    free(data);
    ran++;
  }
  free(names);
  return ran;
}

/* Every folder under `root` must be a target's (a misspelled folder would never be replayed). */
static void check_folder_names(const char *root) {
  struct dirent **names = NULL;
  int n = scandir(root, &names, is_input, alphasort);
  for (int i = 0; i < n; i++) {
    int known = 0;
    for (size_t t = 0; t < TARGET_COUNT; t++) known |= strcmp(names[i]->d_name, targets[t].name) == 0;
    if (!known) fprintf(stderr, "%s/%s: not the name of a fuzz target\n", root, names[i]->d_name);
    CHECK(known);
    free(names[i]);
  }
  free(names);
}

int main(void) {
  check_folder_names("fuzz/corpus");
  check_folder_names("fuzz/regressions");
  for (size_t t = 0; t < TARGET_COUNT; t++) {
    char dir[256];
    snprintf(dir, sizeof dir, "fuzz/corpus/%s", targets[t].name);
    size_t seeds = replay_folder(&targets[t], dir);
    snprintf(dir, sizeof dir, "fuzz/regressions/%s", targets[t].name);
    size_t regressions = replay_folder(&targets[t], dir);
    if (seeds == 0) fprintf(stderr, "fuzz/corpus/%s has no seeds\n", targets[t].name);
    CHECK(seeds > 0);
    printf("%s: %zu seeds, %zu regressions replayed\n", targets[t].name, seeds, regressions);
  }
  return test_finish("test_fuzz_regressions");
}
