#include "commands.h"
int cmd_srcu(int argc, char **argv) { (void)argc; (void)argv; return 0; }
