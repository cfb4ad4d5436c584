/*
 * The codec suite is one executable; each source file contributes a TCase.
 */
#ifndef LVC_TESTS_CODEC_TEST_CODEC_H
#define LVC_TESTS_CODEC_TEST_CODEC_H

#include <check.h>

TCase *lvc_test_container_tcase(void);
TCase *lvc_test_image_io_tcase(void);

#endif /* LVC_TESTS_CODEC_TEST_CODEC_H */
