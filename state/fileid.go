package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// headMax bounds the bytes of a file's first line that are hashed.
const headMax = 4096

// FileID identifies a file across renames: its device and inode, and a
// hash of its first line, which tells it from a later file that was given
// the same inode. The line itself is never stored: it may hold a key.
type FileID struct {
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	HeadLen int    `json:"head_len,omitempty"` // bytes hashed: the first line with its newline (at most 4 KiB); 0 while it has none
	Head    string `json:"head,omitempty"`     // hex SHA-256 of those bytes
}

// Identify returns the identity of the open file f whose FileInfo is fi.
func Identify(f io.ReaderAt, fi os.FileInfo) FileID {
	id := FileID{}
	id.Dev, id.Ino = devIno(fi)
	id.HeadLen, id.Head = head(f)
	return id
}

// InodeOf is the identity of fi by its device and inode alone, for a file
// whose first line says nothing (an output that may be cut back).
func InodeOf(fi os.FileInfo) FileID {
	id := FileID{}
	id.Dev, id.Ino = devIno(fi)
	return id
}

// head hashes the first line of f.
func head(f io.ReaderAt) (int, string) {
	var b [headMax]byte
	n, _ := f.ReadAt(b[:], 0)
	if i := bytes.IndexByte(b[:n], '\n'); i >= 0 {
		n = i + 1
	} else if n < headMax {
		return 0, ""
	}
	return n, hashOf(b[:n])
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// Complete reports whether the identity includes the first line's hash.
func (id FileID) Complete() bool { return id.HeadLen > 0 }

// SameInode reports whether fi is the file's device and inode.
func (id FileID) SameInode(fi os.FileInfo) bool {
	d, i := devIno(fi)
	return id.Ino != 0 && d == id.Dev && i == id.Ino
}

// Matches reports whether the open file f (fi) is the file id names: the
// same inode, starting with the same first line.
func (id FileID) Matches(f io.ReaderAt, fi os.FileInfo) bool {
	if !id.SameInode(fi) {
		return false
	}
	if id.HeadLen == 0 {
		return true
	}
	if id.HeadLen > headMax {
		return false
	}
	b := make([]byte, id.HeadLen)
	if n, _ := f.ReadAt(b, 0); n != id.HeadLen {
		return false
	}
	return hashOf(b) == id.Head
}
