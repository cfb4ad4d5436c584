/*
 * Check runner of the splat suite: I/O, coding and rendering of Gaussian
 * splat scenes (include/lvc/splat.h).
 */
#include <check.h>
#include <stdlib.h>

#include "tests/splat/test_splat.h"

int main(void)
{
    Suite *s = suite_create("splat");
    suite_add_tcase(s, lvc_test_splat_io_tcase());
    suite_add_tcase(s, lvc_test_splat_codec_tcase());
    suite_add_tcase(s, lvc_test_splat_render_tcase());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
