package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// ignoreLostLogPipe keeps the server alive when its log pipe closes (stderr
// to a pipe whose reader died): unhandled, SIGPIPE on fd 2 kills a Go
// program at its next log line. Ignored, the write fails with EPIPE, which
// slog drops. Only serve does this: `report | head` should still end
// quietly when head exits.
func ignoreLostLogPipe() { signal.Ignore(syscall.SIGPIPE) }

// serveUntilStopped runs listen (web.ListenAndServe on server) until
// SIGTERM or SIGINT, then stops accepting and gives the scrapes in flight
// up to timeout to finish, and returns exitOK. SIGHUP is logged and
// otherwise ignored: there is nothing to reload (the toolkit re-reads
// --web.config.file for each connection), and its default action would
// end the process.
func serveUntilStopped(server *http.Server, listen func() error, timeout time.Duration, logger *slog.Logger) int {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(signals)
	stopped := make(chan error, 1)
	go func() {
		for sig := range signals {
			if sig == syscall.SIGHUP {
				logger.Info("SIGHUP ignored: nothing to reload; --web.config.file is read for each connection")
				continue
			}
			logger.Info("shutting down: no new connections, waiting for the scrapes in flight", "signal", sig, "timeout", timeout)
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			stopped <- server.Shutdown(ctx)
			cancel()
			return // later signals wait in the channel: the timeout bounds the stop
		}
	}()
	if err := listen(); !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server stopped", "err", err)
		return exitRuntime
	}
	if err := <-stopped; err != nil {
		logger.Warn("scrapes still in flight at the shutdown timeout were cut", "err", err, "timeout", timeout)
		server.Close()
	}
	logger.Info("stopped")
	return exitOK
}
