package bgworker

import "encoding/binary"

// The worker block, the memcpy'd BackgroundWorker of a slot:
//
//	  0 bgw_name           [64]byte, NUL-terminated
//	 64 bgw_library_name   [64]byte
//	128 bgw_function_name  [64]byte
//	192 bgw_flags          u32
//	196 bgw_start_time     u32
//	200 bgw_restart_time   i32
//	204 bgw_notify_pid     i32
//	208 bgw_main_arg       u64
const (
	wName       = 0
	wLibrary    = 64
	wFunction   = 128
	wFlags      = 192
	wStartTime  = 196
	wRestart    = 200
	wNotifyPid  = 204
	wMainArg    = 208
	workerSize  = 216
	wStringSize = MaxLen
)

// encodeWorker writes w into a block. Names must already be validated
// (at most MaxLen-1 bytes); a longer one is truncated, never overflows.
func encodeWorker(w *Worker) []byte {
	b := make([]byte, workerSize)
	putString(b[wName:wName+wStringSize], w.Name)
	putString(b[wLibrary:wLibrary+wStringSize], w.LibraryName)
	putString(b[wFunction:wFunction+wStringSize], w.FunctionName)
	binary.LittleEndian.PutUint32(b[wFlags:], uint32(w.Flags))
	binary.LittleEndian.PutUint32(b[wStartTime:], uint32(w.StartTime))
	binary.LittleEndian.PutUint32(b[wRestart:], uint32(w.RestartTime))
	binary.LittleEndian.PutUint32(b[wNotifyPid:], uint32(w.NotifyPid))
	binary.LittleEndian.PutUint64(b[wMainArg:], w.MainArg)
	return b
}

func putString(dst []byte, s string) {
	n := copy(dst[:len(dst)-1], s)
	clear(dst[n:])
}

// decodeWorker reads a block that may hold anything, the postmaster's
// paranoid copy: strings through asciiSafeCopy, fixed-size fields as they
// are (the caller sanity-checks them).
func decodeWorker(b []byte) Worker {
	return Worker{
		Name:         asciiSafeCopy(b[wName : wName+wStringSize]),
		LibraryName:  asciiSafeCopy(b[wLibrary : wLibrary+wStringSize]),
		FunctionName: asciiSafeCopy(b[wFunction : wFunction+wStringSize]),
		Flags:        Flags(binary.LittleEndian.Uint32(b[wFlags:])),
		StartTime:    StartTime(binary.LittleEndian.Uint32(b[wStartTime:])),
		RestartTime:  int32(binary.LittleEndian.Uint32(b[wRestart:])),
		NotifyPid:    int32(binary.LittleEndian.Uint32(b[wNotifyPid:])),
		MainArg:      binary.LittleEndian.Uint64(b[wMainArg:]),
	}
}

// asciiSafeCopy is ascii_safe_strlcpy with a destination of len(src)
// bytes: it copies at most len(src)-1 bytes, stops at the first NUL, keeps
// bytes 32..127 and \n, \r, \t, and replaces every other byte with '?'. The
// result is therefore always terminated and ASCII, whatever src holds.
func asciiSafeCopy(src []byte) string {
	out := make([]byte, 0, len(src))
	for i := 0; i < len(src)-1; i++ {
		c := src[i]
		switch {
		case c == 0:
			return string(out)
		case c >= 32 && c <= 127, c == '\n', c == '\r', c == '\t':
			out = append(out, c)
		default:
			out = append(out, '?')
		}
	}
	return string(out)
}
