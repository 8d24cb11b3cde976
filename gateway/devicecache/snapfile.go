package devicecache

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// The snapshot file (store format 3) holds the device list a Save wrote,
// beside the bbolt file that names it (meta "snapshot"): the bbolt commit
// that records a new generation is the moment the new list replaces the
// old one, so a file torn by a crash is never read (it is not named yet),
// and the old file stays until that commit.
//
//	header  "GHDCSNP3" (8 bytes), generation (8, big endian)
//	blocks  payload length (4), records (4), CRC-32C of length, records
//	        and payload (4), payload: appendStored records back to back
//	        (one block per cache shard, written as the shards are encoded)
//	trailer 0 (4), 0 (4), CRC-32C of the total (4), total records (8)
//
// Nothing may follow the trailer. Written sequentially through large
// buffers with one fsync, where bbolt copied every value into its pages.
const snapMagic = "GHDCSNP3"

const (
	snapHeader  = len(snapMagic) + 8
	blockHeader = 12
	// maxBlock bounds one block: a shard of 10 million devices is a few
	// megabytes; a larger length is corruption, refused before reading.
	maxBlock = 1 << 30
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func blockCRC(hdr, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(hdr[:8], castagnoli), castagnoli, payload)
}

// snapshotPath names generation gen's file beside the bbolt file.
func (s *Store) snapshotPath(gen uint64) string {
	return fmt.Sprintf("%s.snapshot-%d", s.path, gen)
}

// writeSnapshot writes c's persistable entries to path, complete and
// synced (under a temporary name renamed at the end), and returns how many.
func writeSnapshot(path string, gen uint64, c *Cache) (int, error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := writeBlocks(f, gen, c)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return n, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

type encodedBlock struct {
	buf   []byte // block header then payload
	count int
}

// writeBlocks encodes the shards on every core, each into its own block,
// and writes the blocks as they come; at most a few blocks are in memory.
func writeBlocks(f io.Writer, gen uint64, c *Cache) (int, error) {
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(snapMagic)
	w.Write(binary.BigEndian.AppendUint64(nil, gen))
	workers := runtime.GOMAXPROCS(0)
	free := make(chan []byte, workers+2)
	for range workers + 2 {
		free <- nil
	}
	out := make(chan encodedBlock, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < shardCount; i = int(next.Add(1) - 1) {
				buf, n := c.shards[i].appendPersistable((<-free)[:0])
				out <- encodedBlock{buf, n}
			}
		})
	}
	go func() { wg.Wait(); close(out) }()
	total := 0
	var err error
	for b := range out {
		if b.count > 0 && err == nil {
			binary.BigEndian.PutUint32(b.buf[0:], uint32(len(b.buf)-blockHeader))
			binary.BigEndian.PutUint32(b.buf[4:], uint32(b.count))
			binary.BigEndian.PutUint32(b.buf[8:], blockCRC(b.buf, b.buf[blockHeader:]))
			_, err = w.Write(b.buf)
			total += b.count
		}
		free <- b.buf
	}
	if err != nil {
		return 0, err
	}
	trailer := make([]byte, blockHeader, blockHeader+8)
	trailer = binary.BigEndian.AppendUint64(trailer, uint64(total))
	binary.BigEndian.PutUint32(trailer[8:], crc32.Checksum(trailer[blockHeader:], castagnoli))
	w.Write(trailer)
	return total, w.Flush()
}

// appendPersistable appends a block header's room and the shard's
// persistable records (DC-17: only states the UEM decided) to buf.
func (s *shard) appendPersistable(buf []byte) ([]byte, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	buf = slices.Grow(buf, blockHeader+s.n*128)[:blockHeader]
	n := 0
	s.each(func(r *record) {
		if r.validated() && r.state.Valid() {
			buf = appendStored(buf, r)
			n++
		}
	})
	return buf, n
}

// readSnapshot calls fn with every block's payload of generation gen's
// file at path, after checking its CRC and record count, on every core,
// and returns the trailer's total. It stops at the first error; fn may
// still have been called for other blocks. The file is mapped, not
// copied: the payloads fn sees are valid only until it returns.
func readSnapshot(path string, gen uint64, fn func(payload []byte) (int, error)) (int, error) {
	data, release, err := mapFile(path)
	if err != nil {
		return 0, err
	}
	defer release()
	blocks, total, err := splitBlocks(data, gen)
	if err != nil {
		return 0, err
	}
	var (
		next, seen atomic.Int64
		failed     atomic.Bool
		errOnce    sync.Once
		first      error
		wg         sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(blocks) && !failed.Load(); i = int(next.Add(1) - 1) {
				if err := checkBlock(blocks[i], fn, &seen); err != nil {
					errOnce.Do(func() { first = err })
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if first == nil && seen.Load() != int64(total) {
		first = fmt.Errorf("%d records, trailer says %d: %w", seen.Load(), total, errCorrupt)
	}
	return total, first
}

// splitBlocks checks the file's header and trailer and returns its blocks
// (header and payload each) and the trailer's total.
func splitBlocks(data []byte, gen uint64) ([][]byte, int, error) {
	if len(data) < snapHeader || string(data[:len(snapMagic)]) != snapMagic {
		return nil, 0, fmt.Errorf("header: %w", errCorrupt)
	}
	if g := binary.BigEndian.Uint64(data[len(snapMagic):]); g != gen {
		return nil, 0, fmt.Errorf("generation %d, want %d: %w", g, gen, errCorrupt)
	}
	var blocks [][]byte
	for rest := data[snapHeader:]; ; {
		if len(rest) < blockHeader {
			return nil, 0, fmt.Errorf("block header: %w", errCorrupt)
		}
		size := binary.BigEndian.Uint32(rest)
		if size == 0 {
			t := rest[blockHeader:]
			if len(t) < 8 || crc32.Checksum(t[:8], castagnoli) != binary.BigEndian.Uint32(rest[8:]) {
				return nil, 0, fmt.Errorf("trailer: %w", errCorrupt)
			}
			if len(t) != 8 {
				return nil, 0, fmt.Errorf("data after the trailer: %w", errCorrupt)
			}
			if total := binary.BigEndian.Uint64(t); total <= 1<<40 {
				return blocks, int(total), nil
			}
			return nil, 0, fmt.Errorf("trailer total: %w", errCorrupt)
		}
		if size > maxBlock || int64(size) > int64(len(rest)-blockHeader) {
			return nil, 0, fmt.Errorf("block of %d bytes: %w", size, errCorrupt)
		}
		blocks = append(blocks, rest[:blockHeader+int(size)])
		rest = rest[blockHeader+int(size):]
	}
}

// checkBlock checks one block's CRC, then hands its payload to fn and
// checks fn saw as many records as the block header says.
func checkBlock(b []byte, fn func([]byte) (int, error), seen *atomic.Int64) error {
	if blockCRC(b, b[blockHeader:]) != binary.BigEndian.Uint32(b[8:]) {
		return fmt.Errorf("block checksum: %w", errCorrupt)
	}
	n, err := fn(b[blockHeader:])
	if err != nil {
		return err
	}
	if want := binary.BigEndian.Uint32(b[4:]); uint32(n) != want {
		return fmt.Errorf("block holds %d records, header says %d: %w", n, want, errCorrupt)
	}
	seen.Add(int64(n))
	return nil
}
