/* The services init supervises: one file per service in the kv format (lib/kv.h), parsed here,
 * with the pure decisions about them (start order, back-off, restart limit). The processes
 * themselves are supervise.c's. No allocation: a service is a fixed-size record. README.md has
 * the keys. */
#ifndef SERVICE_H
#define SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SERVICE_MAX 48        /* services init keeps at once */
#define SERVICE_NAME_MAX 32
#define SERVICE_ARGS_MAX 16   /* words of a command */
#define SERVICE_AFTER_MAX 8   /* names after one `after` list */
#define SERVICE_RESTARTS_MAX 32 /* the largest N of restart-limit */
#define SERVICE_BACKOFF_MAX 30 /* seconds */

enum service_ready { READY_STARTED, READY_EXITED, READY_PATH, READY_TCP };
enum service_restart { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };

/* BAD: never started (its file or its dependencies are wrong); GIVEN_UP: beyond its restart limit;
 * DONE: ended and not restarted by its policy. */
enum service_state {
	SVC_BAD, SVC_WAITING, SVC_STARTING, SVC_READY, SVC_BACKOFF, SVC_DONE, SVC_GIVEN_UP, SVC_STOPPED
};

/* A command line split on blanks: words point into text. */
struct service_cmd {
	char text[256];
	char *argv[SERVICE_ARGS_MAX + 1];
};

struct service {
	/* From the file. */
	char name[SERVICE_NAME_MAX];
	char path[160];              /* the file it came from, for messages */
	char description[128];
	struct service_cmd command;
	struct service_cmd stop;     /* argv[0] NULL when there is no stop command */
	char user[32];               /* "" for root */
	unsigned long long caps;     /* capabilities kept after becoming user (bit = CAP_* number) */
	char after[SERVICE_AFTER_MAX][SERVICE_NAME_MAX];
	int n_after, after_line;     /* after_line: where the after key stands */
	enum service_ready ready;
	char ready_arg[108];         /* READY_PATH: the path; READY_TCP: HOST:PORT */
	int ready_timeout, stop_timeout; /* seconds */
	bool essential;
	enum service_restart restart;
	int limit_n, limit_s;        /* restart-limit N SECONDS; limit_n < 0: no limit */
	char tty[64];                /* "" or a terminal (or "console") the command runs on */

	/* Decided by the order and at run time. */
	int after_idx[SERVICE_AFTER_MAX];
	/* Seconds it may take to be ready, counted from the services' start: its ready-timeout plus
	 * the largest budget of its dependencies. Bounds the boot's wait for an essential service
	 * that never even starts (e.g. one after a session, which starts only after BOOT-OK). */
	int budget;
	enum service_state state;
	char problem[256];           /* why it is BAD, GIVEN_UP or late: a line of /run/health */
	bool late;                   /* not ready within ready-timeout of its first start */
	bool was_ready;              /* ready once since boot (a restart keeps it) */
	pid_t pid;                   /* 0 when not running */
	int out_fd;                  /* its stdout and stderr, read by init; -1 when none */
	char out_line[256];
	size_t out_len;
	double first_start, started, restart_at; /* monotonic seconds */
	int backoff;                 /* seconds before the next restart */
	double restarts[SERVICE_RESTARTS_MAX]; /* times of the restarts within the limit's window */
	int n_restarts;
	unsigned start_seq;          /* 1 for the first service started, 2 for the next...; 0: never */
};

/* Fill svc from the file text at path, named name (the file's name). 0, or -1 with svc->state BAD
 * and svc->problem "path:line: what is wrong; what to do". */
int service_parse(struct service *svc, const char *name, const char *path, const char *text, size_t len);

/* Resolve the `after` names of svcs[0..n) and put a start order (dependencies first) in order[];
 * services with unknown names or in a dependency cycle become BAD with a problem naming file:line.
 * Sets each service's budget. Returns how many entries order[] got (every service, BAD ones too). */
size_t service_order(struct service *svcs, size_t n, size_t order[]);

/* Whether the dependencies of svcs[i] let it start: 1 all ready, 0 wait, -1 one of them failed
 * (its index in *failed). */
int service_deps(const struct service *svcs, size_t i, size_t *failed);

/* After an exit with wait status `status` (ok: exited 0): whether its policy restarts it. */
bool service_wants_restart(const struct service *svc, bool ok);

/* A restart at time now within restart-limit: records it and returns true; false when it would be
 * one restart too many within the window (the service is to be given up). */
bool service_restart_allowed(struct service *svc, double now);

/* The delay before the next restart, and doubles the one after it, up to SERVICE_BACKOFF_MAX; a
 * service that ran at least SERVICE_BACKOFF_MAX seconds starts again from 1 s. */
int service_backoff(struct service *svc, double ran);

#endif
