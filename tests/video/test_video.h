/*
 * The video suite is one executable; each source file contributes a TCase.
 */
#ifndef LVC_TESTS_VIDEO_TEST_VIDEO_H
#define LVC_TESTS_VIDEO_TEST_VIDEO_H

#include <check.h>

TCase *lvc_test_yuv_io_tcase(void);
TCase *lvc_test_video_codec_tcase(void);

/* The folder of the committed video streams (argv[1]), or NULL. */
extern const char *lvc_test_video_corpus;

#endif /* LVC_TESTS_VIDEO_TEST_VIDEO_H */
