// Package resplimit enforces Redis' client input limits (proto-max-bulk-len,
// the multibulk length, the inline request size and client-query-buffer-
// limit) on the raw byte stream of a client connection, before a RESP
// server such as redcon buffers it: redcon's read buffer grows without a
// cap, so a client announcing a 10 GB bulk string would otherwise make the
// server allocate for it.
//
// Both the node and the proxy accept clients through it. A client that
// breaks a limit gets "-ERR Protocol error: …" after the replies to the
// valid requests before the offending one, and its connection is closed;
// other clients are not affected.
//
// As in Redis, a client that must still authenticate is held to much
// smaller bounds (10 arguments, 16 KB bulks: CVE-2021-32675) until it does,
// lengths that do not parse (an int64 overflow included) are protocol
// errors, and an HTTP request (POST, Host:), as a web page can send to a
// RESP port, closes the connection unanswered with nothing it carried run.
package resplimit
