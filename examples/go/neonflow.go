// Package neonflow is a thin Go binding of libneonflow through cgo: enough to
// run a promotion (client, run and promote options, setup, promote, the
// report with its lost-write window, errors with code, name and message).
// It shows the C ABI is FFI-friendly: opaque handles, getters, int codes.
//
// Every C call is in this file. Build with CGO_CFLAGS naming the directories
// of neonflow.h and version.h, and CGO_LDFLAGS the directory of
// libneonflow.so (or use pkg-config's output for an installed library).
package neonflow

/*
#cgo LDFLAGS: -lneonflow
#include <stdlib.h>
#include "neonflow.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Error is a failed call: the library's code, its stable name and the message.
type Error struct {
	Code    int
	Name    string // e.g. "NEONFLOW_EBRANCH_MISSING"
	Message string
	Report  *Report // the workflow's report when the failure has one
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d): %s", e.Name, e.Code, e.Message) }

// takeError turns a return code and an optional neonflow_error into an *Error and frees it.
func takeError(rc C.int, e *C.neonflow_error) error {
	if rc == 0 {
		return nil
	}
	err := &Error{Code: int(rc), Name: C.GoString(C.neonflow_error_name(rc))}
	if e != nil {
		err.Message = C.GoString(C.neonflow_error_message(e))
		C.neonflow_error_free(e)
	} else {
		err.Message = C.GoString(C.neonflow_strerror(rc))
	}
	return err
}

func cstr(s string) *C.char { return C.CString(s) }

// Version is the loaded library's version string.
func Version() string { return C.GoString(C.neonflow_version_string()) }

// ClientOptions configure a Client; the zero value uses the library's defaults.
type ClientOptions struct {
	APIKey         string // required unless UseEnvironment
	BaseURL        string // default https://console.neon.tech/api/v2
	UseEnvironment bool   // read NEON_API_KEY / NEON_API_HOST when not set here
}

// Client is safe for concurrent use; Close frees it.
type Client struct{ c *C.neonflow_client }

// NewClient creates a client.
func NewClient(o ClientOptions) (*Client, error) {
	var opts *C.neonflow_client_options
	if rc := C.neonflow_client_options_new(&opts); rc != 0 {
		return nil, takeError(rc, nil)
	}
	defer C.neonflow_client_options_free(opts)
	set := func(fn func(*C.char) C.int, v string) C.int {
		if v == "" {
			return 0
		}
		p := cstr(v)
		defer C.free(unsafe.Pointer(p))
		return fn(p)
	}
	env := C.int(0)
	if o.UseEnvironment {
		env = 1
	}
	for _, rc := range []C.int{
		set(func(p *C.char) C.int { return C.neonflow_client_options_set_api_key(opts, p) }, o.APIKey),
		set(func(p *C.char) C.int { return C.neonflow_client_options_set_base_url(opts, p) }, o.BaseURL),
		C.neonflow_client_options_set_use_environment(opts, env),
	} {
		if rc != 0 {
			return nil, takeError(rc, nil)
		}
	}
	var c *C.neonflow_client
	var e *C.neonflow_error
	if rc := C.neonflow_client_new(&c, opts, &e); rc != 0 {
		return nil, takeError(rc, e)
	}
	cl := &Client{c}
	runtime.SetFinalizer(cl, (*Client).Close)
	return cl, nil
}

// Close frees the client; calling it twice is harmless.
func (cl *Client) Close() {
	if cl.c != nil {
		C.neonflow_client_free(cl.c)
		cl.c = nil
	}
}

// RunOptions are what every workflow takes.
type RunOptions struct {
	ProjectID string
	RunID     string // default: generated
	TimeoutMS int64  // 0: the library's default
	DryRun    bool
}

// PromoteOptions name the source and target branches (defaults dev and production).
type PromoteOptions struct {
	Source, Target string
}

func newRunOptions(o RunOptions) (*C.neonflow_run_options, error) {
	var r *C.neonflow_run_options
	if rc := C.neonflow_run_options_new(&r); rc != 0 {
		return nil, takeError(rc, nil)
	}
	project, runID := cstr(o.ProjectID), cstr(o.RunID)
	defer C.free(unsafe.Pointer(project))
	defer C.free(unsafe.Pointer(runID))
	rcs := []C.int{C.neonflow_run_options_set_project_id(r, project)}
	if o.RunID != "" {
		rcs = append(rcs, C.neonflow_run_options_set_run_id(r, runID))
	}
	if o.TimeoutMS != 0 {
		rcs = append(rcs, C.neonflow_run_options_set_timeout_ms(r, C.int64_t(o.TimeoutMS)))
	}
	if o.DryRun {
		rcs = append(rcs, C.neonflow_run_options_set_dry_run(r, 1))
	}
	for _, rc := range rcs {
		if rc != 0 {
			C.neonflow_run_options_free(r)
			return nil, takeError(rc, nil)
		}
	}
	return r, nil
}

// finish wraps a workflow's result: the report on success, an *Error (with
// the report attached when there is one) on failure.
func finish(rc C.int, rep *C.neonflow_report, e *C.neonflow_error) (*Report, error) {
	var r *Report
	if rep != nil {
		r = newReport(rep)
	}
	if err := takeError(rc, e); err != nil {
		err.(*Error).Report = r
		return nil, err
	}
	return r, nil
}

// Setup creates dev from production when it is missing (a no-op otherwise).
func (cl *Client) Setup(o RunOptions) (*Report, error) {
	run, err := newRunOptions(o)
	if err != nil {
		return nil, err
	}
	defer C.neonflow_run_options_free(run)
	var rep *C.neonflow_report
	var e *C.neonflow_error
	rc := C.neonflow_setup(&rep, cl.c, run, nil, &e)
	return finish(rc, rep, e)
}

// Promote makes the source's data the target's, keeping the target's endpoint.
func (cl *Client) Promote(o RunOptions, p PromoteOptions) (*Report, error) {
	run, err := newRunOptions(o)
	if err != nil {
		return nil, err
	}
	defer C.neonflow_run_options_free(run)
	var po *C.neonflow_promote_options
	if rc := C.neonflow_promote_options_new(&po); rc != 0 {
		return nil, takeError(rc, nil)
	}
	defer C.neonflow_promote_options_free(po)
	src, dst := cstr(p.Source), cstr(p.Target)
	defer C.free(unsafe.Pointer(src))
	defer C.free(unsafe.Pointer(dst))
	if p.Source != "" {
		if rc := C.neonflow_promote_options_set_source(po, src); rc != 0 {
			return nil, takeError(rc, nil)
		}
	}
	if p.Target != "" {
		if rc := C.neonflow_promote_options_set_target(po, dst); rc != 0 {
			return nil, takeError(rc, nil)
		}
	}
	var rep *C.neonflow_report
	var e *C.neonflow_error
	rc := C.neonflow_promote(&rep, cl.c, run, po, &e)
	return finish(rc, rep, e)
}

// Report is a finished run, copied into Go values (the C report is freed).
type Report struct {
	RunID, Message                        string
	Result                                int
	Steps                                 []Step
	APICalls                              int64
	TargetBranchID, TargetEndpointID      string
	TargetEndpointHost, BackupBranchName  string
	OldTargetBranchID, RollbackSnapshotID string
	// The lost-write window: writes to the target in it are not in the new target.
	LostWritesStart, LostWritesEnd     string
	LostWritesStartMS, LostWritesEndMS int64
	JSON                               string // the report as JSON (schema_version inside)
}

// Step is one step of a run.
type Step struct{ Name, Status string }

// s copies a borrowed C string.
func s(p *C.char) string { return C.GoString(p) }

func newReport(r *C.neonflow_report) *Report {
	defer C.neonflow_report_free(r)
	rep := &Report{
		RunID: s(C.neonflow_report_run_id(r)), Message: s(C.neonflow_report_message(r)),
		Result: int(C.neonflow_report_result(r)), APICalls: int64(C.neonflow_report_api_calls(r)),
		TargetBranchID:     s(C.neonflow_report_target_branch_id(r)),
		TargetEndpointID:   s(C.neonflow_report_target_endpoint_id(r)),
		TargetEndpointHost: s(C.neonflow_report_target_endpoint_host(r)),
		BackupBranchName:   s(C.neonflow_report_backup_branch_name(r)),
		OldTargetBranchID:  s(C.neonflow_report_old_target_branch_id(r)),
		RollbackSnapshotID: s(C.neonflow_report_rollback_snapshot_id(r)),
		LostWritesStart:    s(C.neonflow_report_lost_writes_start(r)),
		LostWritesEnd:      s(C.neonflow_report_lost_writes_end(r)),
		LostWritesStartMS:  int64(C.neonflow_report_lost_writes_start_ms(r)),
		LostWritesEndMS:    int64(C.neonflow_report_lost_writes_end_ms(r)),
	}
	for i := C.size_t(0); i < C.neonflow_report_step_count(r); i++ {
		st := C.neonflow_report_step_at(r, i)
		rep.Steps = append(rep.Steps, Step{s(C.neonflow_step_name(st)),
			s(C.neonflow_step_status_name(C.neonflow_step_status(st)))})
	}
	var js *C.char
	if C.neonflow_report_to_json(&js, r, 0, nil) == 0 {
		rep.JSON = s(js)
		C.neonflow_free(unsafe.Pointer(js))
	}
	return rep
}
