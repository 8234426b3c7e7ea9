// libsystemd headers for the journal and sd_notify. dropca calls only the non-variadic
// entry points (sd_journal_sendv, sd_notify), which Swift imports as they are.
#ifndef DROPCA_CSYSTEMD_SHIM_H
#define DROPCA_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif
