/* cpose: the command-line program. It parses flags, reads and writes files, and calls libcpose. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

static const char usage[] =
    "Usage: cpose [--image F | --indir D | --list L | --video F | --webcam N] --outdir DIR [options]\n"
    "                              (the main job: poses in images and video, tracked with --pose-track)\n"
    "       cpose <command> [options]\n"
    "\n"
    "Commands:\n"
    "  model info MODEL.json     inputs, outputs, op counts, parameters, FLOPs and memory of a TF.js model\n"
    "  model run MODEL.json ...  run a TF.js graph model on a raw float32 input and write chosen tensors\n"
    "  eval --gt GT --dt RESULTS COCO keypoint AP and AR of pose results, as pycocotools computes them;\n"
    "                            with --track also the CLEAR MOT tracking numbers (MOTA, ID switches)\n"
    "\n"
    "Run 'cpose --image x --help' for the main job's options, 'cpose <command> --help' for a command's.\n";

int main(int argc, char **argv) {
  if (argc >= 2 && strncmp(argv[1], "--", 2) == 0 && strcmp(argv[1], "--help") != 0) return cmd_pose(argc - 1, argv + 1);
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  if (strcmp(argv[1], "eval") == 0) return cmd_eval(argc - 2, argv + 2);
  if (strcmp(argv[1], "model") == 0 && argc >= 3) {
    if (strcmp(argv[2], "info") == 0) return cmd_model_info(argc - 3, argv + 3);
    if (strcmp(argv[2], "run") == 0) return cmd_model_run(argc - 3, argv + 3);
  }
  fprintf(stderr, "cpose: unknown command '%s%s%s'\n\n%s", argv[1], argc >= 3 ? " " : "", argc >= 3 ? argv[2] : "",
          usage);
  return CLI_USAGE;
}
