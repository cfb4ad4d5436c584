/*
 * Check runner of the codec suite: container (bitstream) and image I/O.
 */
#include <check.h>
#include <stdlib.h>

#include "tests/codec/test_codec.h"

int main(void)
{
    Suite *s = suite_create("codec");
    suite_add_tcase(s, lvc_test_container_tcase());
    suite_add_tcase(s, lvc_test_image_io_tcase());
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
