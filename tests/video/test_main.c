/*
 * Check runner of the video suite (include/lvc/video.h): YUV file I/O and coding.
 */
#include <check.h>
#include <stdlib.h>

#include "tests/video/test_video.h"

const char *lvc_test_video_corpus;

int main(int argc, char **argv)
{
    lvc_test_video_corpus = argc > 1 ? argv[1] : NULL;
    Suite *s = suite_create("video");
    suite_add_tcase(s, lvc_test_yuv_io_tcase());
    suite_add_tcase(s, lvc_test_video_codec_tcase());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
