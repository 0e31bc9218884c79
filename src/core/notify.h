/*
 * notify.h - the systemd notification protocol (sd_notify), without
 * linking libsystemd: one datagram to $NOTIFY_SOCKET. A no-op when the
 * variable is unset (not started by systemd with Type=notify).
 */
#ifndef EM_CORE_NOTIFY_H
#define EM_CORE_NOTIFY_H

#include <stdbool.h>

/* Sends state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=..."). */
bool em_notify(const char *state);

#endif
