/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kselftest harness (extracted from linux-source-6.1 by the Makefile)
 * plus the memview helpers and fixture macros.  Test files include this.
 */
#ifndef MEMVIEW_HARNESS_H
#define MEMVIEW_HARNESS_H

/* The 6.1 harness has an unused parameter in its SIGALRM handler. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "memview_test.h"

#endif /* MEMVIEW_HARNESS_H */
