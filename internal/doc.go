// Package internal holds only what two or more of Baton's components truly
// share (the RESP client codec, test cluster helpers). It is empty until a
// second component needs something the first one has.
package internal
