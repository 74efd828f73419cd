// Package safefile reads the files of a run directory as evidence: only
// regular files, never blocking on a FIFO, never reading past a bound.
//
// A run directory is input a checker must survive: a FIFO where a history
// should be would block a plain read forever, a symbolic link to
// /dev/zero would feed it bytes until memory runs out, and a line of a
// gigabyte would be held whole. [Open] refuses anything but a regular file
// (after following symbolic links) without blocking, [Reader] stops at
// [MaxFileSize] and [ReadLine] at [MaxLineSize], each with an error that
// names the bound, so a caller can turn it into a clear refusal (exit 2)
// rather than a hang or a crash.
package safefile
