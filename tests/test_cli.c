/* The cpose command as users run it: a child process (the binary's path is argv[1], given by CTest) on
 * files made in a fresh temporary folder. A folder mixing good images with a truncated JPEG, a text file and
 * an empty file: each bad one reported with its reason, the good ones written, exit status 1, no temporary
 * files left behind. Then each output format (and a coco run whose file names have no id), --save-img,
 * --detfile (malformed, and one given box), --list with a missing entry, a 1x1 image, and the exit statuses
 * of a missing folder and an unknown flag. Skips (77) without the binary, the models or the samples. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cpose.h"
#include "test.h"

extern char **environ;

#define PATH_CAP 4096
#define MAX_ARGS 24

static const char *cpose_path;                     /* the binary under test (argv[1]) */
static char work[] = "/tmp/cpose_test_cli_XXXXXX"; /* everything the test writes goes here */
static char in_dir[PATH_CAP];                      /* the mixed input folder */

/* ---- files -------------------------------------------------------------------------------------------- */

static const char *join(char buf[PATH_CAP], const char *dir, const char *name) {
  int n = snprintf(buf, PATH_CAP, "%s/%s", dir, name);
  if (n < 0 || n >= PATH_CAP) {
    fprintf(stderr, "path too long: %s/%s\n", dir, name);
    exit(1);
  }
  return buf;
}

static void write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(data, 1, size, f) == size;
  if (f && fclose(f) != 0) ok = 0;
  if (!ok) fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
  CHECK(ok);
}

static void write_text(const char *path, const char *text) {
  write_file(path, text, strlen(text));
}

/* Copies the first `limit` bytes of `src` (all of it when it is shorter) to `dst`. */
static void copy_prefix(const char *src, const char *dst, size_t limit) {
  size_t size = 0;
  char *data = test_read_file(src, &size);
  CHECK(data != NULL);
  if (data) write_file(dst, data, size < limit ? size : limit);
  free(data);
}

static size_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* rm -r, without a shell: the names come from the test, but a shell would still be one more thing to trust.
 */
static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    for (struct dirent *e; d && (e = readdir(d));) {
      char child[PATH_CAP];
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
        remove_tree(join(child, path, e->d_name));
    }
    if (d) closedir(d);
    rmdir(path);
  } else {
    unlink(path);
  }
}

/* ---- running the command ------------------------------------------------------------------------------ */

typedef struct cli_run {
  int exit_status;    /* the child's exit status; 128 + signal when it was killed (a crash) */
  char *err;          /* everything it wrote to stderr (malloc'ed, "" when nothing) */
  char out[PATH_CAP]; /* its --outdir: <work>/<tag> */
  char err_path[PATH_CAP];
} cli_run;

/* Starts `cpose ARGS --outdir <work>/<tag> --fast --threads 1` with stdout discarded and stderr captured in
 * <work>/<tag>.stderr. --fast and one thread keep every run short; none of the checks depend on the pose
 * model. The arguments go to the child as they are: no shell parses them. */
static pid_t spawn_cpose(const char *tag, const char *const *args, cli_run *run) {
  *run = (cli_run){.exit_status = -1};
  char err_name[PATH_CAP];
  snprintf(err_name, sizeof err_name, "%s.stderr", tag);
  join(run->err_path, work, err_name);
  join(run->out, work, tag);
  const char *argv[MAX_ARGS + 8];
  size_t n = 0;
  argv[n++] = cpose_path;
  for (size_t i = 0; args[i] && n < MAX_ARGS; i++) argv[n++] = args[i];
  const char *const common[] = {"--outdir", run->out, "--fast", "--threads", "1", NULL};
  for (size_t i = 0; common[i]; i++) argv[n++] = common[i];
  argv[n] = NULL;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, run->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  /* posix_spawn takes char *const[] for historical reasons; POSIX guarantees it does not modify them. */
  int spawn_error = posix_spawn(&pid, cpose_path, &actions, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error) {
    fprintf(stderr, "%s: cannot start %s: %s\n", tag, cpose_path, strerror(spawn_error));
    return -1;
  }
  return pid;
}

/* Waits for the child and reads what it wrote to stderr. */
static void wait_cpose(pid_t pid, cli_run *run) {
  int wstatus = 0;
  if (pid > 0) {
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) continue;
    run->exit_status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  }
  run->err = test_read_file(run->err_path, NULL);
  if (!run->err) run->err = calloc(1, 1);
}

static cli_run run_cpose(const char *tag, const char *const *args) {
  cli_run run;
  pid_t pid = spawn_cpose(tag, args, &run);
  wait_cpose(pid, &run);
  return run;
}

/* Runs and checks the exit status; shows what the command said when it is not the one expected. */
static cli_run expect_exit(const char *tag, const char *const *args, int expected) {
  cli_run run = run_cpose(tag, args);
  if (run.exit_status != expected) {
    fprintf(stderr, "%s: exit status %d, expected %d; stderr:\n%s\n", tag, run.exit_status, expected,
            run.err);
  }
  CHECK(run.exit_status == expected);
  return run;
}

static void cli_run_free(cli_run *run) {
  free(run->err);
  run->err = NULL;
}

/* Whether one line of `text` contains both `a` and `b`: a failure must name the file and say why. */
static int line_with(const char *text, const char *a, const char *b) {
  for (const char *line = text; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    const char *hit_a = strstr(line, a), *hit_b = strstr(line, b);
    if (hit_a && hit_b && hit_a < line + len && hit_b < line + len) return 1;
    line += len + (end != NULL);
  }
  return 0;
}

static void check_reported(const cli_run *run, const char *name, const char *reason) {
  if (!line_with(run->err, name, reason)) {
    fprintf(stderr, "stderr has no line naming '%s' with '%s':\n%s\n", name, reason, run->err);
  }
  CHECK(line_with(run->err, name, reason));
}

/* ---- results ------------------------------------------------------------------------------------------ */

static cJSON *load_json(const char *dir, const char *name) {
  char path[PATH_CAP];
  char *text = test_read_file(join(path, dir, name), NULL);
  cJSON *json = text ? cJSON_Parse(text) : NULL;
  free(text);
  if (!json) fprintf(stderr, "%s: missing or not JSON\n", path);
  return json;
}

static int is_number_array(const cJSON *array, int expected_size) {
  if (!cJSON_IsArray(array) || cJSON_GetArraySize(array) != expected_size) return 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, array) {
    if (!cJSON_IsNumber(item)) return 0;
  }
  return 1;
}

static const cJSON *field(const cJSON *object, const char *name) {
  return cJSON_GetObjectItemCaseSensitive(object, name);
}

/* One person in AlphaPose's results format (io.h), image_id aside (its type depends on the format). */
static void check_entry(const cJSON *entry) {
  CHECK(cJSON_IsObject(entry));
  const cJSON *category = field(entry, "category_id");
  CHECK(cJSON_IsNumber(category) && category->valuedouble == 1.0);
  CHECK(is_number_array(field(entry, "keypoints"), 17 * 3));
  CHECK(cJSON_IsNumber(field(entry, "score")));
  CHECK(is_number_array(field(entry, "box"), 4));
  CHECK(cJSON_IsNumber(field(entry, "idx")));
}

/* The run's results list with every entry checked; NULL (a failed check) when it is missing or not a list. */
static cJSON *load_results(const cli_run *run) {
  cJSON *results = load_json(run->out, "alphapose-results.json");
  CHECK(cJSON_IsArray(results));
  if (!cJSON_IsArray(results)) {
    cJSON_Delete(results);
    return NULL;
  }
  const cJSON *entry;
  cJSON_ArrayForEach(entry, results) check_entry(entry);
  return results;
}

/* Entries whose image_id is the string `name`. */
static int count_image(const cJSON *results, const char *name) {
  int n = 0;
  const cJSON *entry;
  cJSON_ArrayForEach(entry, results) {
    const cJSON *id = field(entry, "image_id");
    n += cJSON_IsString(id) && strcmp(id->valuestring, name) == 0;
  }
  return n;
}

/* A folder that must hold exactly `expected` (NULL-terminated names): a leftover "*.tmp-*" shows a write
 * that was not completed or not cleaned up. */
static void check_folder_holds(const char *dir, const char *const *expected) {
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    int known = 0;
    for (size_t i = 0; expected[i]; i++) known |= strcmp(e->d_name, expected[i]) == 0;
    if (!known) fprintf(stderr, "%s: unexpected file '%s'\n", dir, e->d_name);
    CHECK(known);
  }
  if (d) closedir(d);
}

/* ---- the cases ---------------------------------------------------------------------------------------- */

/* Good and bad images in one folder: the bad ones reported and skipped, the good ones all written. */
static void test_mixed_folder(void) {
  const char *const args[] = {"--indir", in_dir, NULL};
  cli_run run = expect_exit("indir", args, 1);
  check_reported(&run, "cut.jpg", "truncated");
  check_reported(&run, "notes.jpg", "not a JPEG or PNG");
  check_reported(&run, "empty.png", "empty");
  CHECK(!strstr(run.err, "messi5.jpg") && !strstr(run.err, "basketball1.png"));
  cJSON *results = load_results(&run);
  if (results) {
    /* In natural order messi5.jpg comes after the bad files: its results prove the run went on. */
    int messi = count_image(results, "messi5.jpg"), basketball = count_image(results, "basketball1.png");
    CHECK(messi >= 1 && basketball >= 1);
    CHECK(messi + basketball == cJSON_GetArraySize(results));
  }
  static const char *const only_results[] = {"alphapose-results.json", NULL};
  check_folder_holds(run.out, only_results);
  cJSON_Delete(results);
  cli_run_free(&run);
}

/* --format coco: image_id is the integer the COCO file name spells. */
static void test_coco_format(void) {
  char image[PATH_CAP];
  const char *const args[] = {"--image", join(image, work, "000000000139.jpg"), "--format", "coco", NULL};
  cli_run run = expect_exit("coco", args, 0);
  cJSON *results = load_results(&run);
  CHECK(results && cJSON_GetArraySize(results) >= 1);
  const cJSON *entry;
  cJSON_ArrayForEach(entry, results) {
    const cJSON *id = field(entry, "image_id");
    CHECK(cJSON_IsNumber(id) && id->valuedouble == 139.0);
  }
  cJSON_Delete(results);
  cli_run_free(&run);
}

/* --format open: one OpenPose-style file per image in sep-json/, 18 points (with the neck) per person. */
static void test_open_format(void) {
  char image[PATH_CAP], sep[PATH_CAP];
  const char *const args[] = {"--image", join(image, in_dir, "messi5.jpg"), "--format", "open", NULL};
  cli_run run = expect_exit("open", args, 0);
  cJSON *combined = load_json(run.out, "alphapose-results.json");
  CHECK(cJSON_IsObject(field(combined, "messi5.jpg")));
  cJSON *frame = load_json(join(sep, run.out, "sep-json"), "messi5.json");
  const cJSON *people = field(frame, "people");
  CHECK(cJSON_IsArray(people) && cJSON_GetArraySize(people) >= 1);
  const cJSON *person;
  cJSON_ArrayForEach(person, people) CHECK(is_number_array(field(person, "pose_keypoints_2d"), 18 * 3));
  cJSON_Delete(frame);
  cJSON_Delete(combined);
  cli_run_free(&run);
}

/* --save-img: the drawing is a real image of the input's size. */
static void test_save_img(void) {
  char image[PATH_CAP], vis[PATH_CAP], drawn_path[PATH_CAP];
  const char *const args[] = {"--image", join(image, in_dir, "messi5.jpg"), "--save-img", NULL};
  cli_run run = expect_exit("save-img", args, 0);
  cpose_image *input = NULL, *drawn = NULL;
  CHECK_OK(cpose_image_load(image, &input));
  CHECK_OK(cpose_image_load(join(drawn_path, join(vis, run.out, "vis"), "messi5.jpg"), &drawn));
  CHECK(input && drawn && drawn->width == input->width && drawn->height == input->height);
  cpose_image_destroy(drawn);
  cpose_image_destroy(input);
  cli_run_free(&run);
}

/* --format coco needs COCO file names: an image without an id is reported and skipped before it is processed,
 * and the results of the others (here none) are still written. */
static void test_coco_name_without_id(void) {
  char image[PATH_CAP];
  const char *const args[] = {"--image", join(image, in_dir, "messi5.jpg"), "--format", "coco", NULL};
  cli_run run = expect_exit("coco-bad-name", args, 1);
  check_reported(&run, "messi5.jpg", "no COCO image id");
  static const char *const results_only[] = {"alphapose-results.json", NULL};
  check_folder_holds(run.out, results_only);
  cli_run_free(&run);
}

static void test_missing_folder(void) {
  char missing[PATH_CAP];
  const char *const args[] = {"--indir", join(missing, work, "no-such-folder"), NULL};
  cli_run run = expect_exit("missing-indir", args, 1);
  CHECK(strstr(run.err, missing) != NULL);
  cli_run_free(&run);
}

/* An unknown flag is a usage error (2), never silently ignored. */
static void test_unknown_flag(void) {
  char image[PATH_CAP];
  const char *const args[] = {"--image", join(image, in_dir, "messi5.jpg"), "--no-such-flag", NULL};
  cli_run run = expect_exit("unknown-flag", args, 2);
  CHECK(strstr(run.err, "--no-such-flag") != NULL);
  cli_run_free(&run);
}

static void test_malformed_detfile(void) {
  char image[PATH_CAP], dets[PATH_CAP];
  write_text(join(dets, work, "broken-dets.json"), "[{\"image_id\": \"messi5.jpg\", \"bbox\": [68, 60");
  const char *const args[] = {"--image", join(image, in_dir, "messi5.jpg"), "--detfile", dets, NULL};
  cli_run run = expect_exit("detfile-malformed", args, 1);
  CHECK(strstr(run.err, "broken-dets.json") != NULL);
  cli_run_free(&run);
}

/* A detections file with one box around the footballer: the detector's other boxes must not appear. */
static void test_detfile_one_box(void) {
  static const double box[4] = {68, 60, 390, 276};
  char image[PATH_CAP], dets[PATH_CAP], text[512];
  snprintf(text, sizeof text,
           "[{\"image_id\": \"messi5.jpg\", \"category_id\": 1, \"bbox\": [%g, %g, %g, %g], "
           "\"score\": 0.9}]",
           box[0], box[1], box[2], box[3]);
  write_text(join(dets, work, "dets.json"), text);
  const char *const args[] = {"--image", join(image, in_dir, "messi5.jpg"), "--detfile", dets, NULL};
  cli_run run = expect_exit("detfile", args, 0);
  cJSON *results = load_results(&run);
  CHECK(results && cJSON_GetArraySize(results) == 1 && count_image(results, "messi5.jpg") == 1);
  const cJSON *written = results ? field(cJSON_GetArrayItem(results, 0), "box") : NULL;
  for (int i = 0; i < 4 && is_number_array(written, 4); i++) {
    CHECK_NEAR(cJSON_GetArrayItem(written, i)->valuedouble, box[i], 1e-3);
  }
  cJSON_Delete(results);
  cli_run_free(&run);
}

/* --list: a missing entry is reported and skipped like a bad image. */
static void test_list_with_missing(void) {
  char list[PATH_CAP], good[PATH_CAP], missing[PATH_CAP], text[3 * PATH_CAP];
  snprintf(text, sizeof text, "%s\n%s\n", join(good, in_dir, "messi5.jpg"),
           join(missing, work, "missing.jpg"));
  write_text(join(list, work, "list.txt"), text);
  const char *const args[] = {"--list", list, NULL};
  cli_run run = expect_exit("list", args, 1);
  check_reported(&run, missing, "cannot open");
  cJSON *results = load_results(&run);
  int messi = count_image(results, "messi5.jpg");
  CHECK(results && messi >= 1 && messi == cJSON_GetArraySize(results));
  cJSON_Delete(results);
  cli_run_free(&run);
}

/* The smallest image there is: no person fits, but nothing may fail (crops, letterbox, scaling by 1 px). */
static void test_one_pixel_image(void) {
  char tiny[PATH_CAP];
  cpose_image *image = NULL;
  CHECK_OK(cpose_image_create(1, 1, &image));
  if (image) CHECK_OK(cpose_image_save(image, join(tiny, work, "tiny.png"), 90));
  cpose_image_destroy(image);
  const char *const args[] = {"--image", tiny, NULL};
  cli_run run = expect_exit("one-pixel", args, 0);
  cJSON *results = load_results(&run);
  CHECK(results != NULL);
  cJSON_Delete(results);
  cli_run_free(&run);
}

/* ---- video: interrupted and killed runs ---------------------------------------------------------------- */

/* Lines of a file that parse as JSON objects; *partial_out counts the others. */
static int complete_json_lines(const char *path, int *partial_out) {
  char *text = test_read_file(path, NULL);
  int complete = 0;
  *partial_out = 0;
  for (char *line = text, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = '\0';
    cJSON *o = cJSON_Parse(line);
    if (cJSON_IsObject(o) && cJSON_IsArray(cJSON_GetObjectItem(o, "persons")) && next) {
      complete++;
    } else {
      (*partial_out)++;
    }
    cJSON_Delete(o);
  }
  free(text);
  return complete;
}

/* Starts a tracked run on samples/vtest.avi with --stream-json and --save-video, waits until it has
 * finished `frames` frames (their JSON lines are written), and sends it `signal_number`. */
static cli_run signal_video_run(const char *tag, int frames, int signal_number) {
  const char *args[] = {"--video", "samples/vtest.avi", "--pose-track", "--stream-json", "--save-video", NULL};
  cli_run run;
  pid_t pid = spawn_cpose(tag, args, &run);
  char lines[PATH_CAP];
  join(lines, run.out, "alphapose-results.jsonl");
  int partial = 0;
  for (int waited = 0; pid > 0 && waited < 1200 && complete_json_lines(lines, &partial) < frames; waited++) {
    nanosleep(&(struct timespec){0, 50000000}, NULL); /* 50 ms, at most a minute */
  }
  if (pid > 0) kill(pid, signal_number);
  wait_cpose(pid, &run);
  return run;
}

/* Ctrl-C: the frame at hand is finished and every output file is complete: the results hold the frames of
 * the JSON lines, the video as many frames. */
static void test_video_interrupted(void) {
  cli_run run = signal_video_run("video-int", 5, SIGINT);
  CHECK(run.exit_status == 130);
  CHECK(strstr(run.err, "interrupted") != NULL);
  char path[PATH_CAP];
  int partial = 0, lines = complete_json_lines(join(path, run.out, "alphapose-results.jsonl"), &partial);
  CHECK(lines >= 5 && partial == 0);
  cJSON *results = load_json(run.out, "alphapose-results.json");
  CHECK(cJSON_IsArray(results) && cJSON_GetArraySize(results) > 0);
  const cJSON *last = cJSON_GetArrayItem(results, cJSON_GetArraySize(results) - 1);
  int last_frame = last ? atoi(field(last, "image_id")->valuestring) : -1;
  CHECK(last_frame == lines - 1); /* frames 0 .. lines-1, every one in both files */
  cJSON_Delete(results);
  cpose_video_reader *video = NULL;
  CHECK_OK(cpose_video_open(join(path, run.out, "AlphaPose_vtest.mp4"), &video));
  int frames = 0;
  cpose_image *frame = NULL;
  int64_t index;
  while (video && cpose_video_read(video, &frame, &index) == CPOSE_OK && frame) {
    frames++;
    cpose_image_destroy(frame);
  }
  cpose_video_close(video);
  CHECK(frames == lines);
  cli_run_free(&run);
}

/* SIGKILL: no half-written file under a final name (the results and the video are renamed into place only
 * when complete), and every JSON line written so far is complete. */
static void test_video_killed(void) {
  cli_run run = signal_video_run("video-kill", 3, SIGKILL);
  CHECK(run.exit_status == 128 + SIGKILL);
  char path[PATH_CAP];
  CHECK(access(join(path, run.out, "alphapose-results.json"), F_OK) != 0);
  CHECK(access(join(path, run.out, "AlphaPose_vtest.mp4"), F_OK) != 0);
  int partial = 0, lines = complete_json_lines(join(path, run.out, "alphapose-results.jsonl"), &partial);
  CHECK(lines >= 3 && partial == 0);
  cli_run_free(&run);
}

/* ---- set-up ------------------------------------------------------------------------------------------- */

static void skip_without_setup(int argc, char **argv) {
  if (argc < 2 || access(argv[1], X_OK) != 0) TEST_SKIP("usage: test_cli PATH_OF_CPOSE (CTest passes it)");
  static const char *const needed[] = {"samples/messi5.jpg", "samples/basketball1.png",
                                       "models/centernet/model.json", "models/movenet-lightning/model.json"};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    if (access(needed[i], R_OK) != 0) TEST_SKIP("%s is missing: run bash scripts/setup.sh", needed[i]);
  }
  cpose_path = argv[1];
}

/* <work>/in: two good images and three that cannot be decoded, each for its own reason; and the COCO-named
 * copy outside it, so that the folder run sees only the five. */
static void make_inputs(void) {
  char path[PATH_CAP];
  CHECK(mkdtemp(work) != NULL);
  CHECK(mkdir(join(in_dir, work, "in"), 0755) == 0);
  copy_prefix("samples/messi5.jpg", join(path, in_dir, "messi5.jpg"), SIZE_MAX);
  copy_prefix("samples/basketball1.png", join(path, in_dir, "basketball1.png"), SIZE_MAX);
  copy_prefix("samples/messi5.jpg", join(path, in_dir, "cut.jpg"), file_size("samples/messi5.jpg") / 2);
  write_text(join(path, in_dir, "notes.jpg"), "not an image: notes about the match\n");
  write_text(join(path, in_dir, "empty.png"), "");
  copy_prefix("samples/messi5.jpg", join(path, work, "000000000139.jpg"), SIZE_MAX);
}

int main(int argc, char **argv) {
  skip_without_setup(argc, argv);
  make_inputs();
  test_mixed_folder();
  test_coco_format();
  test_open_format();
  test_save_img();
  test_coco_name_without_id();
  test_missing_folder();
  test_unknown_flag();
  test_malformed_detfile();
  test_detfile_one_box();
  test_list_with_missing();
  test_one_pixel_image();
  if (access("samples/vtest.avi", R_OK) == 0) {
    test_video_interrupted();
    test_video_killed();
  }
  /* A failed run leaves its folder for a look at the files and each run's stderr. */
  if (test_failures) {
    fprintf(stderr, "test_cli: files kept in %s\n", work);
  } else {
    remove_tree(work);
  }
  return test_finish("test_cli");
}
