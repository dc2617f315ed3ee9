/*
 * test_blk_stop.c - the report after a run that stopped in the middle of
 * block I/O.
 *
 * The time limit falls wherever it falls: with I/O submitted as fast as the
 * ring takes it, vCPU 1 is often inside blkfront's lock when the run stops,
 * and never runs again. The report reads the frontend's negotiated features
 * and counters afterwards; it used to take that lock and spin for ever
 * (`xensim run` hung). Now the guest is told that every CPU stopped
 * (xg_guest_stopped) and the getters read without the lock. Each run here
 * has a watchdog: a hang fails the test with a message instead of waiting
 * for ctest's timeout.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "xensim/scenario.h"

static void watchdog(int sig)
{
    static const char msg[] = "test_blk_stop: the run or its report hung (a lock held by a "
                              "stopped vCPU?)\n";

    (void)sig;
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(1);
}

static void test_stop_inside_io(void **state)
{
    static const unsigned int pages[] = {1, 4, 16};
    static const char *const stops[] = {"500us", "1ms", "1500us", "2ms", "3ms",
                                        "5ms",   "6ms", "7ms",    "13ms"};

    (void)state;
    signal(SIGALRM, watchdog);
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
        for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
            struct xsim_scenario s;
            struct xsim_error err;
            struct xsim_report *rep = calloc(1, sizeof(*rep));
            struct xsim_run_options opt = {.quiet = true};
            char text[1024];
            assert_non_null(rep);
            snprintf(text, sizeof(text),
                     "{\"name\": \"blk-stop\", \"machine\": {\"vcpus\": 2}, \"disks\": [{\"name\": "
                     "\"xvda\", \"latency\": \"100us\", \"ring_pages\": %u}], \"workloads\": "
                     "[{\"name\": \"io\", \"type\": \"block-io\", \"disk\": \"xvda\", \"vcpu\": 1, "
                     "\"rate\": \"5M/s\", \"mix\": {\"read\": 1}, \"io_sectors\": 8, \"region\": "
                     "1048576, \"queue_depth\": 128}], \"stop\": {\"time\": \"%s\"}}",
                     pages[p], stops[i]);
            assert_int_equal(
                xsim_scenario_load_buffer(&s, "blk-stop.json", text, strlen(text), &err), 0);
            alarm(60);
            assert_int_equal(xsim_run(&s, &opt, rep, NULL, NULL), 0);
            alarm(0);
            /* The report read the frontend: what it negotiated. */
            assert_int_equal(rep->ndisks, 1);
            assert_string_equal(rep->disk[0].state, "connected");
            assert_int_equal(rep->disk[0].ring_pages, pages[p]);
            assert_true(rep->disk[0].requests > 0);
            xsim_report_free(rep);
            xsim_scenario_free(&s);
            free(rep);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_inside_io),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
