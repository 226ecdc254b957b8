#define _GNU_SOURCE
#include "run.h"

#include "kv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void child(char *const argv[], const char *cwd, char *const env[], const char *log_path, int pipe_w)
{
	int fd = pipe_w >= 0 ? pipe_w : open(log_path ? log_path : "/dev/null",
					     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || null < 0 || (cwd && chdir(cwd) < 0))
		_exit(127);
	dup2(null, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	for (size_t i = 0; env && env[i]; i++)
		putenv(env[i]);
	execvp(argv[0], argv);
	/* Not the program's stderr: fd 2 is the tool's log (or the pipe into *out) by now, where the
	 * caller's "see this log" points; run_argv() returns 127 for it. */
	dprintf(2, "%s: cannot run %s: %s\n", util_progname, argv[0], strerror(errno));
	_exit(127);
}

static void drain(int fd, struct buf *out)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		buf_add(out, chunk, (size_t)n);
	}
}

int run_argv(char *const argv[], const char *cwd, char *const env[], const char *log_path, struct buf *out)
{
	int p[2] = {-1, -1}, status;
	pid_t pid;

	if (out && pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(argv, cwd, env, log_path, p[1]);
	if (out) {
		close(p[1]);
		buf_puts(out, "");
		drain(p[0], out);
		close(p[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int run_tool(char *const argv[], const char *log, const char *what, struct diag *d)
{
	int st = run_argv(argv, NULL, NULL, log, NULL);

	return st == 0 ? 0 : diag_set(d, log, 0, "%s failed (%s exit %d); see this log", what, argv[0], st);
}

int run_have(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	int found = 0;

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	copy = xstrdup(path ? path : "/usr/bin:/bin");
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", dir, prog);
		found = access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found;
}
