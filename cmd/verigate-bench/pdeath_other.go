//go:build !linux

package main

import "syscall"

// childAttr: without Linux's parent-death signal, children are stopped by
// the bench's deferred clean-up and signal handler only.
func childAttr() *syscall.SysProcAttr { return nil }
