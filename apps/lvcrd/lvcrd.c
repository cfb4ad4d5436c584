/*
 * lvcrd: rate-distortion evaluation tool. The work is in rd_run.c so that
 * the tests can run it in-process.
 */
#include "apps/lvcrd/rd_run.h"

int main(int argc, char **argv)
{
    return lvcrd_main(argc, argv);
}
