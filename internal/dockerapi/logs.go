package dockerapi

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Logs writes a container's stdout and stderr since a time to w. The
// engine multiplexes both streams of a container without a TTY into
// frames (1 byte stream, 3 zero bytes, 4 bytes big-endian length); they
// are written in order, unframed.
func (c *Client) Logs(ctx context.Context, id string, since time.Time, w io.Writer) error {
	q := url.Values{"stdout": {"1"}, "stderr": {"1"}, "since": {strconv.FormatInt(since.Unix(), 10)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://docker/containers/"+url.PathEscape(id)+"/logs?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("logs %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("logs %s: %s", id, resp.Status)
	}
	return demux(bufio.NewReader(resp.Body), w)
}

// demux copies the payloads of the engine's log frames from r to w.
func demux(r io.Reader, w io.Writer) error {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("log frame header: %w", err)
		}
		n := int64(binary.BigEndian.Uint32(hdr[4:]))
		if _, err := io.CopyN(w, r, n); err != nil {
			return fmt.Errorf("log frame of %d bytes: %w", n, err)
		}
	}
}
