#ifndef MAILMAPS_METRICS_H
#define MAILMAPS_METRICS_H

/* The maps' status as Prometheus metrics (text exposition format 0.0.4),
 * for node_exporter's textfile collector:
 *   mailmaps_users mailmaps_aliases mailmaps_domains mailmaps_generation
 *   mailmaps_synced_timestamp_seconds mailmaps_sync_duration_seconds
 *   mailmaps_age_seconds mailmaps_stale mailmaps_last_failure_timestamp_seconds
 * Every metric is a gauge without labels. */

#include <stddef.h>
#include <time.h>

#include "maps/status.h"

/* metrics_format - the metrics for st at time now into buf (NUL-terminated);
 * st NULL (no usable status) yields only "mailmaps_stale 1", so an alert on
 * staleness also fires for maps that are gone. Returns the length, or -1
 * when buf is too small. */
int metrics_format(const struct status *st, time_t now, unsigned stale_after, char *buf,
                   size_t bufsz);

#endif
