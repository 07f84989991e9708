/* The subcommands of `cpose`, one file each. Each gets the arguments after its name and returns the exit code. */
#ifndef CPOSE_COMMANDS_H
#define CPOSE_COMMANDS_H

int cmd_model_info(int argc, char **argv);
int cmd_model_run(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_pose(int argc, char **argv);

#endif
