/*
 * The splat suite is one executable; each source file contributes a TCase.
 */
#ifndef LVC_TESTS_SPLAT_TEST_SPLAT_H
#define LVC_TESTS_SPLAT_TEST_SPLAT_H

#include <check.h>

TCase *lvc_test_splat_io_tcase(void);
TCase *lvc_test_splat_codec_tcase(void);
TCase *lvc_test_splat_render_tcase(void);

#endif /* LVC_TESTS_SPLAT_TEST_SPLAT_H */
