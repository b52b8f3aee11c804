/* SPDX-License-Identifier: Apache-2.0 */
/* outputs.h: the tool's output files, which appear together or not at all.
 *
 * A subcommand names each of its outputs with outputs_add() before it does
 * any work, writes them with outputs_write() and ends with outputs_commit()
 * (or outputs_discard() on any error). In between, every output lives in a
 * temporary file beside its destination, ".<name>.clnorm-XXXXXX", created
 * with the mode the output will have. The commit checks everything that can
 * be checked, keeps every existing destination under a backup name
 * ".<name>.clnorm-old-XXXXXX" (a hard link, or the file itself renamed aside
 * where the file system has no hard links), renames the temporaries into
 * place back to back, fsyncs the directories and removes the backups. A rename
 * that still fails puts back what was replaced already, so a reported error
 * leaves every output as it was.
 *
 * SIGINT, SIGTERM and SIGHUP (unless ignored when the tool started) remove
 * the temporaries and backups, put back anything half-committed, and end the
 * process as the signal would. One set of outputs per process, used from the
 * thread that called outputs_add() first. */
#ifndef CLNORM_TOOLS_OUTPUTS_H
#define CLNORM_TOOLS_OUTPUTS_H

#include <stddef.h>

#define OUTPUTS_MAX 4

/* Checks `path` (given with `option`, both named in messages) and reserves a
 * temporary file beside where it will go. Refused: an empty name, a name
 * ending in '/', a directory, anything that exists and is not a regular file
 * (device, FIFO, socket), a symbolic link to anything but a regular file,
 * and a destination that an earlier output names already. A symbolic link to
 * a regular file stays: its target is replaced. A new output gets mode
 * 0666 & ~umask; a replaced one keeps its permission bits (and, where
 * permitted, its owner and group). `option` and `path` are kept, not
 * copied: they must stay valid until outputs_commit or outputs_discard.
 * Returns 0, or an exit code after reporting the error. */
int outputs_add(const char *option, const char *path);

/* Writes output `index` (0, 1, ... in the order added) as a float32 .npy
 * file into its temporary and fsyncs it. Returns 0 or a reported exit code. */
int outputs_write(size_t index, const size_t *shape, size_t ndim, const float *data);

/* Renames every output into place, all or none. Returns 0 or a reported exit
 * code; either way the set is empty afterwards. */
int outputs_commit(void);

/* Removes every temporary and backup and forgets the outputs. Idempotent. */
void outputs_discard(void);

#endif
