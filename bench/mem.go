package bench

import (
	"bytes"
	"os"
	"strconv"
)

// procStatus reads the resident set (VmRSS) and its peak (VmHWM) of a process
// from procfs, in bytes; pid 0 means this process.
func procStatus(pid int) (rss, peak int64, ok bool) {
	path := "/proc/self/status"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	return statusKB(b, "VmRSS:") * 1024, statusKB(b, "VmHWM:") * 1024, true
}

// statusKB returns the value in kB of a /proc/PID/status field.
func statusKB(b []byte, field string) int64 {
	i := bytes.Index(b, []byte(field))
	if i < 0 {
		return 0
	}
	line := b[i+len(field):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	line = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte("kB")))
	v, _ := strconv.ParseInt(string(line), 10, 64)
	return v
}

// peakRSS returns this process's peak resident memory in bytes.
func peakRSS() int64 {
	_, peak, _ := procStatus(0)
	return peak
}
