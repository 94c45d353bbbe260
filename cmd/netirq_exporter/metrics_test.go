package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMetricsMethods: HEAD answers a GET's headers without reading a
// snapshot; POST, PUT and DELETE get 405 with Allow, and read nothing
// either; a GET reads one.
func TestMetricsMethods(t *testing.T) {
	e := fixtureExporter(t, false)
	h := metricsHandler(e, 40, true, quietLogger())
	serve := func(method, acceptEncoding string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/metrics", nil)
		req.Header.Set("Accept-Encoding", acceptEncoding)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, enc := range []string{"", "gzip"} {
		rec := serve(http.MethodHead, enc)
		hdr := rec.Header()
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 || hdr.Get("Content-Type") != contentType ||
			hdr.Get("Vary") != "Accept-Encoding" || (hdr.Get("Content-Encoding") == "gzip") != (enc == "gzip") {
			t.Errorf("HEAD, Accept-Encoding %q: %d, %d bytes, headers %v", enc, rec.Code, rec.Body.Len(), hdr)
		}
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		rec := serve(method, "gzip")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q; want 405 and GET, HEAD", method, rec.Code, rec.Header().Get("Allow"))
		}
	}
	if reads := e.Source().Reads(); reads != 0 {
		t.Errorf("HEAD and refused methods read %d snapshots, want none", reads)
	}
	if rec := serve(http.MethodGet, "gzip"); rec.Code != http.StatusOK || e.Source().Reads() != 1 {
		t.Errorf("GET: %d, %d snapshot reads; want 200 and 1", rec.Code, e.Source().Reads())
	}
}
