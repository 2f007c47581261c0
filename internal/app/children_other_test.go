//go:build !linux

package app_test

import "os/exec"

// dieWithTest does nothing where the kernel offers no parent-death signal;
// the tests' cleanups still stop their processes.
func dieWithTest(*exec.Cmd) {}
