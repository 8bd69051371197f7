"""neonflow — a ctypes binding of libneonflow (standard library only).

    import neonflow
    with neonflow.Client() as client:              # NEON_API_KEY / NEON_API_HOST
        report = client.promote("my-project", on_event=print)
        print(report.lost_writes_start, report.lost_writes_end)

The library is found through $NEONFLOW_LIB (a full path), then
ctypes.util.find_library("neonflow"), then the build directory of this source
tree (build/lib/libneonflow.so).

Every workflow returns a Report, or raises NeonflowError carrying the C error
code and details; when the library produced a report for the failed run (it
does for nearly every failure) it is attached as `error.report`, and says how
to continue. Objects are freed deterministically: use `with`, or call
close(); __del__ is only the safety net.

Threads: a Client may be shared by many Python threads. ctypes releases the
GIL during each C call, and the hooks run on the calling thread.
"""
import ctypes
import ctypes.util
import json
import os

__all__ = ["Client", "Report", "Step", "Resource", "Event", "Branch", "CancelToken",
           "NeonflowError", "version", "strerror", "error_name", "enum_name", "load_library"]

# ---- constants (the values are part of the ABI; see include/neonflow/*.h) ----
OK = 0
EINVAL = -2
ECANCELLED = -5
ETIMEOUT = -6
EUNCERTAIN = -208
EOPTIMEOUT = -302
ECALLBACK = -500

TLS_1_2 = 12
TLS_1_3 = 13
REPORT_JSON_COMPACT = 1

# Enumerations only grow: their names come from the library's _name()
# functions ("unknown" for a value it does not know), never from a copy here.
_NAME_FUNCTIONS = ("workflow_kind", "step_status", "resource_kind", "resource_action", "event_kind",
                   "lock_kind", "log_level", "trace_kind", "tls_version", "branch_state",
                   "restore_status", "endpoint_type", "endpoint_state", "operation_status",
                   "operation_action")


def enum_name(family, value):
    """The library's name of `value` in `family` (e.g. "step_status", 1 -> "done")."""
    if family not in _NAME_FUNCTIONS:
        raise ValueError("unknown enumeration family %r" % (family,))
    return _s(getattr(load_library(), "neonflow_%s_name" % family)(value))

_c = ctypes
_P = _c.c_void_p
_S = _c.c_char_p
_I = _c.c_int
_I32 = _c.c_int32
_I64 = _c.c_int64
_SZ = _c.c_size_t

EVENT_FN = _c.CFUNCTYPE(None, _P, _P)           # void (*)(const neonflow_event *, void *)
BRANCH_CHECK_FN = _c.CFUNCTYPE(_I, _P, _P)      # int (*)(const neonflow_branch_hook_ctx *, void *)
DESTROY_FN = _c.CFUNCTYPE(None, _P)             # void (*)(void *)
_NO_DESTROY = DESTROY_FN()                      # NULL: the closures carry the state

# name: (restype, argtypes)
_PROTOS = {
    "neonflow_version": (None, [_c.POINTER(_I32)] * 3),
    "neonflow_version_string": (_S, []),
    "neonflow_free": (None, [_P]),
    "neonflow_strerror": (_S, [_I]),
    "neonflow_error_name": (_S, [_I]),
    "neonflow_error_code": (_I, [_P]),
    "neonflow_error_message": (_S, [_P]),
    "neonflow_error_http_status": (_I32, [_P]),
    "neonflow_error_neon_code": (_S, [_P]),
    "neonflow_error_request_id": (_S, [_P]),
    "neonflow_error_method": (_S, [_P]),
    "neonflow_error_path": (_S, [_P]),
    "neonflow_error_is_retryable": (_I, [_P]),
    "neonflow_error_retry_after_ms": (_I64, [_P]),
    "neonflow_error_free": (None, [_P]),
    # client
    "neonflow_client_options_new": (_I, [_c.POINTER(_P)]),
    "neonflow_client_options_free": (None, [_P]),
    "neonflow_client_options_set_api_key": (_I, [_P, _S]),
    "neonflow_client_options_set_base_url": (_I, [_P, _S]),
    "neonflow_client_options_set_user_agent_suffix": (_I, [_P, _S]),
    "neonflow_client_options_set_request_timeout_ms": (_I, [_P, _I64]),
    "neonflow_client_options_set_max_retries": (_I, [_P, _I32]),
    "neonflow_client_options_set_ca_file": (_I, [_P, _S]),
    "neonflow_client_options_set_use_environment": (_I, [_P, _I]),
    "neonflow_client_options_set_proxy": (_I, [_P, _S]),
    "neonflow_client_options_set_noproxy": (_I, [_P, _S]),
    "neonflow_client_options_set_ca_path": (_I, [_P, _S]),
    "neonflow_client_options_set_ca_blob": (_I, [_P, _c.c_char_p, _SZ]),
    "neonflow_client_options_set_tls_min_version": (_I, [_P, _I32]),
    "neonflow_client_new": (_I, [_c.POINTER(_P), _P, _c.POINTER(_P)]),
    "neonflow_client_free": (None, [_P]),
    "neonflow_client_base_url": (_S, [_P]),
    # cancel tokens
    "neonflow_cancel_new": (_I, [_c.POINTER(_P)]),
    "neonflow_cancel_trigger": (None, [_P]),
    "neonflow_cancel_is_triggered": (_I, [_P]),
    "neonflow_cancel_free": (None, [_P]),
    # run options
    "neonflow_run_options_new": (_I, [_c.POINTER(_P)]),
    "neonflow_run_options_free": (None, [_P]),
    "neonflow_run_options_set_project_id": (_I, [_P, _S]),
    "neonflow_run_options_set_run_id": (_I, [_P, _S]),
    "neonflow_run_options_set_timeout_ms": (_I, [_P, _I64]),
    "neonflow_run_options_set_cancel": (_I, [_P, _P]),
    "neonflow_run_options_set_dry_run": (_I, [_P, _I]),
    "neonflow_run_options_set_event_hook": (_I, [_P, EVENT_FN, _P, DESTROY_FN]),
    # promote
    "neonflow_promote_options_new": (_I, [_c.POINTER(_P)]),
    "neonflow_promote_options_free": (None, [_P]),
    "neonflow_promote_options_set_source": (_I, [_P, _S]),
    "neonflow_promote_options_set_target": (_I, [_P, _S]),
    "neonflow_promote_options_set_verify_hook": (_I, [_P, BRANCH_CHECK_FN, _P, DESTROY_FN]),
    "neonflow_promote_options_set_after_switch_hook": (_I, [_P, BRANCH_CHECK_FN, _P, DESTROY_FN]),
    "neonflow_promote_options_set_auto_rollback": (_I, [_P, _I]),
    "neonflow_promote_options_set_verify_compute": (_I, [_P, _I]),
    "neonflow_promote": (_I, [_c.POINTER(_P), _P, _P, _P, _c.POINTER(_P)]),
    # rollback
    "neonflow_rollback_options_new": (_I, [_c.POINTER(_P)]),
    "neonflow_rollback_options_free": (None, [_P]),
    "neonflow_rollback_options_set_target": (_I, [_P, _S]),
    "neonflow_rollback_options_set_snapshot_id": (_I, [_P, _S]),
    "neonflow_rollback_options_set_snapshot_first": (_I, [_P, _I]),
    "neonflow_rollback": (_I, [_c.POINTER(_P), _P, _P, _P, _c.POINTER(_P)]),
    # setup, refresh, backups, prune
    "neonflow_setup_options_new": (_I, [_c.POINTER(_P)]),
    "neonflow_setup_options_free": (None, [_P]),
    "neonflow_setup_options_set_source": (_I, [_P, _S]),
    "neonflow_setup_options_set_dev_name": (_I, [_P, _S]),
    "neonflow_setup": (_I, [_c.POINTER(_P), _P, _P, _P, _c.POINTER(_P)]),
    "neonflow_refresh_options_new": (_I, [_c.POINTER(_P)]),
    "neonflow_refresh_options_free": (None, [_P]),
    "neonflow_refresh_options_set_source": (_I, [_P, _S]),
    "neonflow_refresh_options_set_target": (_I, [_P, _S]),
    "neonflow_refresh_options_set_delete_backup": (_I, [_P, _I]),
    "neonflow_refresh_options_set_verify_hook": (_I, [_P, BRANCH_CHECK_FN, _P, DESTROY_FN]),
    "neonflow_refresh_options_set_verify_compute": (_I, [_P, _I]),
    # connection URIs (connection.h)
    "neonflow_connection_uri_options_new": (_I, [_c.POINTER(_P)]),
    "neonflow_connection_uri_options_free": (None, [_P]),
    "neonflow_connection_uri_options_set_branch_id": (_I, [_P, _S]),
    "neonflow_connection_uri_options_set_endpoint_id": (_I, [_P, _S]),
    "neonflow_connection_uri_options_set_database_name": (_I, [_P, _S]),
    "neonflow_connection_uri_options_set_role_name": (_I, [_P, _S]),
    "neonflow_connection_uri_options_set_pooled": (_I, [_P, _I]),
    "neonflow_connection_uri_get": (_I, [_c.POINTER(_P), _P, _S, _P, _P, _c.POINTER(_P)]),
    "neonflow_refresh": (_I, [_c.POINTER(_P), _P, _P, _P, _c.POINTER(_P)]),
    "neonflow_backups_list_options_new": (_I, [_c.POINTER(_P)]),
    "neonflow_backups_list_options_free": (None, [_P]),
    "neonflow_backups_list_options_set_target": (_I, [_P, _S]),
    "neonflow_backups_list_options_set_kind": (_I, [_P, _S]),
    "neonflow_backups_list_options_set_older_than_s": (_I, [_P, _I64]),
    "neonflow_backups_list_options_set_branches": (_I, [_P, _I]),
    "neonflow_backups_list_options_set_snapshots": (_I, [_P, _I]),
    "neonflow_backups_list": (_I, [_c.POINTER(_P), _P, _P, _P, _c.POINTER(_P)]),
    "neonflow_prune_options_new": (_I, [_c.POINTER(_P)]),
    "neonflow_prune_options_free": (None, [_P]),
    "neonflow_prune_options_set_keep_newest": (_I, [_P, _I32]),
    "neonflow_prune_options_set_older_than_s": (_I, [_P, _I64]),
    "neonflow_prune": (_I, [_c.POINTER(_P), _P, _P, _P, _c.POINTER(_P)]),
    # reports
    "neonflow_report_workflow": (_I32, [_P]),
    "neonflow_report_run_id": (_S, [_P]),
    "neonflow_report_is_dry_run": (_I, [_P]),
    "neonflow_report_result": (_I, [_P]),
    "neonflow_report_message": (_S, [_P]),
    "neonflow_report_step_count": (_SZ, [_P]),
    "neonflow_report_step_at": (_P, [_P, _SZ]),
    "neonflow_report_api_calls": (_I64, [_P]),
    "neonflow_report_retries": (_I64, [_P]),
    "neonflow_report_duration_ms": (_I64, [_P]),
    "neonflow_report_to_json": (_I, [_c.POINTER(_P), _P, _c.c_uint32, _c.POINTER(_P)]),
    "neonflow_report_free": (None, [_P]),
    "neonflow_step_name": (_S, [_P]),
    "neonflow_step_description": (_S, [_P]),
    "neonflow_step_status": (_I32, [_P]),
    "neonflow_step_is_mutating": (_I, [_P]),
    "neonflow_step_duration_ms": (_I64, [_P]),
    "neonflow_step_api_calls": (_I64, [_P]),
    "neonflow_step_retries": (_I64, [_P]),
    "neonflow_step_resource_count": (_SZ, [_P]),
    "neonflow_step_resource_at": (_P, [_P, _SZ]),
    "neonflow_resource_kind": (_I32, [_P]),
    "neonflow_resource_action": (_I32, [_P]),
    "neonflow_resource_name": (_S, [_P]),
    "neonflow_resource_id": (_S, [_P]),
    "neonflow_resource_role": (_S, [_P]),
    "neonflow_resource_target": (_S, [_P]),
    "neonflow_resource_run_id": (_S, [_P]),
    "neonflow_resource_created_at": (_S, [_P]),
    "neonflow_resource_expires_at": (_S, [_P]),
    "neonflow_resource_size_bytes": (_I64, [_P]),
    "neonflow_resource_replaced_by": (_S, [_P]),
    # events
    "neonflow_event_kind": (_I32, [_P]),
    "neonflow_event_workflow": (_I32, [_P]),
    "neonflow_event_run_id": (_S, [_P]),
    "neonflow_event_step": (_S, [_P]),
    "neonflow_event_message": (_S, [_P]),
    "neonflow_event_status": (_I32, [_P]),
    "neonflow_event_duration_ms": (_I64, [_P]),
    "neonflow_event_operation_id": (_S, [_P]),
    "neonflow_event_operation_action": (_S, [_P]),
    "neonflow_event_http_status": (_I32, [_P]),
    "neonflow_event_elapsed_ms": (_I64, [_P]),
    # the context handed to verify / after-switch hooks
    "neonflow_hook_name": (_S, [_I32]),
    "neonflow_branch_hook_ctx_hook": (_I32, [_P]),
    "neonflow_branch_hook_ctx_run_id": (_S, [_P]),
    "neonflow_branch_hook_ctx_target": (_S, [_P]),
    "neonflow_branch_hook_ctx_branch": (_P, [_P]),
    "neonflow_branch_hook_ctx_endpoint_count": (_SZ, [_P]),
    "neonflow_branch_hook_ctx_endpoint_at": (_P, [_P, _SZ]),
    "neonflow_branch_hook_ctx_host": (_S, [_P]),
    "neonflow_branch_hook_ctx_connection_uri": (_P, [_P]),
    "neonflow_endpoint_json": (_S, [_P]),
    "neonflow_branch_id": (_S, [_P]),
    "neonflow_branch_name": (_S, [_P]),
    "neonflow_branch_project_id": (_S, [_P]),
    "neonflow_branch_json": (_S, [_P]),
}

# Strings of the report getters, exposed as Report properties.
_REPORT_STRINGS = [
    "source_branch_id", "old_target_branch_id", "target_branch_id", "target_endpoint_id",
    "target_endpoint_host", "candidate_snapshot_id", "rollback_snapshot_id", "preview_branch_id",
    "backup_branch_id", "backup_branch_name", "lost_writes_start", "lost_writes_end",
    "lost_writes_end_lsn", "divergence_start", "lost_writes_end_source",
]
for _name in _REPORT_STRINGS:
    _PROTOS["neonflow_report_" + _name] = (_S, [_P])
_PROTOS["neonflow_report_lost_writes_start_ms"] = (_I64, [_P])
_PROTOS["neonflow_report_lost_writes_end_ms"] = (_I64, [_P])
for _name in _NAME_FUNCTIONS:
    _PROTOS["neonflow_%s_name" % _name] = (_S, [_I32])


def _candidates():
    env = os.environ.get("NEONFLOW_LIB")
    if env:
        yield env
    found = ctypes.util.find_library("neonflow")
    if found:
        yield found
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "..", "..", "build", "lib", "libneonflow.so")


_lib = None


def load_library():
    """Loads libneonflow once and declares every function used here."""
    global _lib  # pylint: disable=global-statement
    if _lib is not None:
        return _lib
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    else:
        raise OSError("libneonflow not found (set NEONFLOW_LIB): " + "; ".join(errors))
    for name, (restype, argtypes) in _PROTOS.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    _lib = lib
    return lib


def _s(b):
    return b.decode("utf-8", "replace") if b is not None else ""


def _b(s):
    return s.encode("utf-8") if s is not None else None


def version():
    """The loaded library's version string, e.g. "1.0.0"."""
    return _s(load_library().neonflow_version_string())


def strerror(code):
    return _s(load_library().neonflow_strerror(code))


def error_name(code):
    return _s(load_library().neonflow_error_name(code))


class NeonflowError(Exception):
    """A failed libneonflow call: the NEONFLOW_E* code and the details."""

    def __init__(self, code, name=None, message=None, http_status=0, request_id="",
                 neon_code="", method="", path="", retryable=False, report=None, retry_after_ms=-1):
        self.code = code
        self.name = name or error_name(code)
        self.message = message or strerror(code)
        self.http_status = http_status
        self.request_id = request_id
        self.neon_code = neon_code
        self.method = method
        self.path = path
        self.retryable = retryable
        self.report = report
        self.retry_after_ms = retry_after_ms  # the server's Retry-After, -1 when none
        text = "%s: %s" % (self.name, self.message)
        if http_status:
            text += " (HTTP %d%s)" % (http_status, ", request " + request_id if request_id else "")
        super().__init__(text)

    @classmethod
    def _take(cls, code, errp, report=None):
        """Builds the exception from a neonflow_error* and frees it."""
        lib = load_library()
        e = errp.value if errp is not None else None
        if not e:
            return cls(code, report=report)
        try:
            return cls(code, error_name(code), _s(lib.neonflow_error_message(e)),
                       lib.neonflow_error_http_status(e), _s(lib.neonflow_error_request_id(e)),
                       _s(lib.neonflow_error_neon_code(e)), _s(lib.neonflow_error_method(e)),
                       _s(lib.neonflow_error_path(e)), bool(lib.neonflow_error_is_retryable(e)), report,
                       lib.neonflow_error_retry_after_ms(e))
        finally:
            lib.neonflow_error_free(e)


def _check(rc):
    if rc != OK:
        raise NeonflowError(rc)


class _Owned:
    """A C object with exactly one free function, freed once."""
    _free_name = None

    def __init__(self, ptr):
        self._ptr = ptr

    def close(self):
        ptr, self._ptr = self._ptr, None
        if ptr and _lib is not None:
            getattr(_lib, self._free_name)(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # pylint: disable=broad-except
            pass

    def _alive(self):
        if not self._ptr:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._ptr


class CancelToken(_Owned):
    """Lets another thread stop a running workflow (NeonflowError ECANCELLED)."""
    _free_name = "neonflow_cancel_free"

    def __init__(self):
        p = _P()
        _check(load_library().neonflow_cancel_new(ctypes.byref(p)))
        super().__init__(p.value)

    def trigger(self):
        _lib.neonflow_cancel_trigger(self._alive())

    @property
    def triggered(self):
        return bool(_lib.neonflow_cancel_is_triggered(self._ptr)) if self._ptr else False


class Event:
    """A copy of one event (the C event is only valid during the hook)."""
    __slots__ = ("kind", "workflow", "run_id", "step", "message", "status", "duration_ms",
                 "operation_id", "operation_action", "http_status", "elapsed_ms")

    def __init__(self, ev):
        lib = _lib
        self.kind = _s(lib.neonflow_event_kind_name(lib.neonflow_event_kind(ev)))
        self.workflow = _s(lib.neonflow_workflow_kind_name(lib.neonflow_event_workflow(ev)))
        self.run_id = _s(lib.neonflow_event_run_id(ev))
        self.step = _s(lib.neonflow_event_step(ev))
        self.message = _s(lib.neonflow_event_message(ev))
        self.status = lib.neonflow_event_status(ev)
        self.duration_ms = lib.neonflow_event_duration_ms(ev)
        self.operation_id = _s(lib.neonflow_event_operation_id(ev))
        self.operation_action = _s(lib.neonflow_event_operation_action(ev))
        self.http_status = lib.neonflow_event_http_status(ev)
        self.elapsed_ms = lib.neonflow_event_elapsed_ms(ev)

    @property
    def step_status(self):
        """For step_end events: "done", "skipped", ..."""
        return enum_name("step_status", self.status) if self.kind == "step_end" else ""

    def __repr__(self):
        return "Event(%s, step=%r, message=%r)" % (self.kind, self.step, self.message)


class Branch:
    """The branch handed to verify / after_switch hooks (copied). `raw` is
    the whole branch object as Neon sent it (a dict), for any other field;
    `hook` is "verify" or "after_switch"; `host` the read-write endpoint's
    host (None when the branch has none: so for verify unless the run was
    given verify_compute=True); `endpoints` the branch's endpoints as Neon
    sent them (dicts). connection_uri() gives the branch's connection URI
    (it holds a password; None when the branch has no compute), during the
    hook call only: it is fetched when asked (two requests)."""
    __slots__ = ("id", "name", "project_id", "raw", "hook", "run_id", "target", "host", "endpoints", "_ctx")

    def __init__(self, ctx):
        lib = _lib
        self._ctx = ctx
        self.hook = _s(lib.neonflow_hook_name(lib.neonflow_branch_hook_ctx_hook(ctx)))
        self.run_id = _s(lib.neonflow_branch_hook_ctx_run_id(ctx))
        self.target = _s(lib.neonflow_branch_hook_ctx_target(ctx))
        host = lib.neonflow_branch_hook_ctx_host(ctx)
        self.host = _s(host) if host is not None else None
        self.endpoints = []
        for i in range(lib.neonflow_branch_hook_ctx_endpoint_count(ctx)):
            text = lib.neonflow_endpoint_json(lib.neonflow_branch_hook_ctx_endpoint_at(ctx, i))
            if text is None:
                raise MemoryError("neonflow_endpoint_json")
            self.endpoints.append(json.loads(_s(text)))
        b = lib.neonflow_branch_hook_ctx_branch(ctx)
        self.id = _s(_lib.neonflow_branch_id(b))
        self.name = _s(_lib.neonflow_branch_name(b))
        self.project_id = _s(_lib.neonflow_branch_project_id(b))
        text = _lib.neonflow_branch_json(b)
        if text is None:
            raise MemoryError("neonflow_branch_json")
        self.raw = json.loads(_s(text))

    def connection_uri(self):
        if self._ctx is None:
            raise RuntimeError("connection_uri() is only valid during the hook call")
        p = _lib.neonflow_branch_hook_ctx_connection_uri(self._ctx)
        return ctypes.string_at(p).decode() if p else None

    def __repr__(self):
        return "Branch(%r, %r)" % (self.id, self.name)


class Resource:
    """A resource a step created, replaced, deleted or kept (copied)."""

    def __init__(self, r):
        lib = _lib
        self.kind = _s(lib.neonflow_resource_kind_name(lib.neonflow_resource_kind(r)))
        self.action = _s(lib.neonflow_resource_action_name(lib.neonflow_resource_action(r)))
        self.name = _s(lib.neonflow_resource_name(r))
        self.id = _s(lib.neonflow_resource_id(r))
        self.role = _s(lib.neonflow_resource_role(r))
        self.target = _s(lib.neonflow_resource_target(r))
        self.run_id = _s(lib.neonflow_resource_run_id(r))
        self.created_at = _s(lib.neonflow_resource_created_at(r))
        self.expires_at = _s(lib.neonflow_resource_expires_at(r))
        self.size_bytes = lib.neonflow_resource_size_bytes(r)
        self.replaced_by = _s(lib.neonflow_resource_replaced_by(r))

    def __repr__(self):
        return "Resource(%s %s %r %s)" % (self.action, self.kind, self.name, self.id)


class Step:
    """One step of a report (copied)."""

    def __init__(self, s):
        lib = _lib
        self.name = _s(lib.neonflow_step_name(s))
        self.description = _s(lib.neonflow_step_description(s))
        self.status = _s(lib.neonflow_step_status_name(lib.neonflow_step_status(s)))
        self.mutating = bool(lib.neonflow_step_is_mutating(s))
        self.duration_ms = lib.neonflow_step_duration_ms(s)
        self.api_calls = lib.neonflow_step_api_calls(s)
        self.retries = lib.neonflow_step_retries(s)
        self.resources = [Resource(lib.neonflow_step_resource_at(s, i))
                          for i in range(lib.neonflow_step_resource_count(s))]

    def __repr__(self):
        return "Step(%r, %s)" % (self.name, self.status)


class Report(_Owned):
    """What a workflow did (or planned, for a dry run). Owns the C report."""
    _free_name = "neonflow_report_free"

    def _get(self, name):
        return getattr(_lib, "neonflow_report_" + name)(self._alive())

    workflow = property(lambda self: _s(_lib.neonflow_workflow_kind_name(self._get("workflow"))))
    run_id = property(lambda self: _s(self._get("run_id")))
    dry_run = property(lambda self: bool(self._get("is_dry_run")))
    result = property(lambda self: self._get("result"))
    message = property(lambda self: _s(self._get("message")))
    api_calls = property(lambda self: self._get("api_calls"))
    retries = property(lambda self: self._get("retries"))
    duration_ms = property(lambda self: self._get("duration_ms"))
    lost_writes_start_ms = property(lambda self: self._get("lost_writes_start_ms"))
    lost_writes_end_ms = property(lambda self: self._get("lost_writes_end_ms"))

    @property
    def steps(self):
        p = self._alive()
        return [Step(_lib.neonflow_report_step_at(p, i)) for i in range(_lib.neonflow_report_step_count(p))]

    def to_json(self, compact=False):
        """The report's JSON document (what `neonflow --json` prints, with its
        integer "schema_version"), as text; compact=True gives one line."""
        out, errp = _P(), _P()
        rc = _lib.neonflow_report_to_json(ctypes.byref(out), self._alive(),
                                          REPORT_JSON_COMPACT if compact else 0, ctypes.byref(errp))
        if rc != OK:
            raise NeonflowError._take(rc, errp)
        try:
            return ctypes.string_at(out.value).decode("utf-8")
        finally:
            _lib.neonflow_free(out.value)

    def to_dict(self):
        """The report's JSON document, parsed."""
        return json.loads(self.to_json(compact=True))

    def __repr__(self):
        if not self._ptr:
            return "Report(closed)"
        return "Report(%s, run %s, %s)" % (self.workflow, self.run_id, error_name(self.result))


for _name in _REPORT_STRINGS:
    setattr(Report, _name, property(lambda self, n=_name: _s(self._get(n))))


class _Run:
    """Run options plus the Python hooks they point to, alive for one call."""

    def __init__(self, project_id, run_id, dry_run, timeout, cancel, on_event):
        lib = load_library()
        self.errors = []           # exceptions raised inside hooks
        self.keep = []             # CFUNCTYPE objects the C side points to
        p = _P()
        _check(lib.neonflow_run_options_new(ctypes.byref(p)))
        self.ptr = p.value
        try:
            _check(lib.neonflow_run_options_set_project_id(self.ptr, _b(project_id)))
            if run_id:
                _check(lib.neonflow_run_options_set_run_id(self.ptr, _b(run_id)))
            if timeout is not None:
                _check(lib.neonflow_run_options_set_timeout_ms(self.ptr, int(timeout * 1000)))
            if dry_run:
                _check(lib.neonflow_run_options_set_dry_run(self.ptr, 1))
            if cancel is not None:
                _check(lib.neonflow_run_options_set_cancel(self.ptr, cancel._alive()))  # pylint: disable=protected-access
            if on_event is not None:
                def event_hook(ev, _payload):
                    try:
                        on_event(Event(ev))
                    except Exception as e:  # pylint: disable=broad-except
                        self.errors.append(e)  # events cannot stop a run: raised afterwards
                cb = EVENT_FN(event_hook)
                self.keep.append(cb)
                _check(lib.neonflow_run_options_set_event_hook(self.ptr, cb, None, _NO_DESTROY))
        except BaseException:
            self.close()
            raise

    def branch_hook(self, fn):
        """A C branch-check hook calling fn(Branch) -> truthy to accept."""
        def hook(b, _payload):
            branch = None
            try:
                branch = Branch(b)
                verdict = fn(branch)
                return 0 if verdict is None or verdict else 1
            except Exception as e:  # pylint: disable=broad-except
                self.errors.append(e)
                return 1  # an exception vetoes
            finally:
                if branch is not None:
                    branch._ctx = None  # pylint: disable=protected-access
        cb = BRANCH_CHECK_FN(hook)
        self.keep.append(cb)
        return cb

    def close(self):
        if self.ptr:
            _lib.neonflow_run_options_free(self.ptr)
            self.ptr = None

    def call(self, fn, client, opts):
        """Runs one workflow; returns its Report or raises NeonflowError."""
        out, errp = _P(), _P()
        if opts is None:
            rc = fn(ctypes.byref(out), client, self.ptr, ctypes.byref(errp))
        else:
            rc = fn(ctypes.byref(out), client, self.ptr, opts, ctypes.byref(errp))
        report = Report(out.value) if out.value else None
        if rc != OK:
            err = NeonflowError._take(rc, errp, report)  # pylint: disable=protected-access
            raise err from (self.errors[0] if self.errors else None)
        if self.errors:
            raise self.errors[0]
        return report


class Client(_Owned):
    """A connection to the Neon API. Share one between threads.

    api_key / base_url default to NEON_API_KEY / NEON_API_HOST (then Neon's
    public API) because use_environment is on by default here, as in the
    CLI; a service holding keys for several tenants passes
    use_environment=False so a missing key fails instead of borrowing the
    process's. request_timeout, ca_file, ca_path, ca_blob (PEM bytes), proxy,
    noproxy and tls_min_version (TLS_1_2 / TLS_1_3) are optional.
    """
    _free_name = "neonflow_client_free"

    def __init__(self, api_key=None, base_url=None, user_agent_suffix=None,
                 request_timeout=None, max_retries=None, ca_file=None, use_environment=True,
                 proxy=None, noproxy=None, ca_path=None, ca_blob=None, tls_min_version=None):
        lib = load_library()
        super().__init__(None)
        opts = _with_options("client", [
            ("use_environment", 1 if use_environment else 0),
            ("api_key", _b(api_key)), ("base_url", _b(base_url)),
            ("user_agent_suffix", _b(user_agent_suffix)),
            ("request_timeout_ms", int(request_timeout * 1000) if request_timeout else None),
            ("max_retries", max_retries), ("ca_file", _b(ca_file)),
            ("proxy", _b(proxy)), ("noproxy", _b(noproxy)), ("ca_path", _b(ca_path)),
            ("ca_blob", (bytes(ca_blob), len(ca_blob)) if ca_blob is not None else None),
            ("tls_min_version", tls_min_version)])
        try:
            p, errp = _P(), _P()
            rc = lib.neonflow_client_new(ctypes.byref(p), opts, ctypes.byref(errp))
            if rc != OK:
                raise NeonflowError._take(rc, errp)
            self._ptr = p.value
        finally:
            lib.neonflow_client_options_free(opts)

    @property
    def base_url(self):
        return _s(_lib.neonflow_client_base_url(self._alive()))

    def _workflow(self, name, kind, setters, project_id, run_id, dry_run, timeout, cancel,
                  on_event, hooks=()):
        run = _Run(project_id, run_id, dry_run, timeout, cancel, on_event)
        opts = None
        try:
            setters = list(setters)
            for hook_name, fn in hooks:
                if fn is not None:
                    setters.append((hook_name, run.branch_hook(fn)))
            if kind:
                opts = _with_options(kind, setters)
            return run.call(getattr(_lib, "neonflow_" + name), self._alive(), opts)
        finally:
            if opts:
                getattr(_lib, "neonflow_%s_options_free" % kind)(opts)
            run.close()

    def setup(self, project_id, source="production", dev_name="dev", **run):
        """Creates dev as a root branch from a snapshot of source (idempotent)."""
        return self._workflow("setup", "setup", [("source", _b(source)), ("dev_name", _b(dev_name))],
                              project_id, **_run_args(run))

    def promote(self, project_id, source="dev", target="production", on_event=None, verify=None,
                after_switch=None, auto_rollback=False, dry_run=False, run_id=None, timeout=None,
                cancel=None, verify_compute=False):
        """Promotes source onto target. verify(Branch) / after_switch(Branch)
        return True (or None) to go on, False to veto; an exception vetoes too
        and becomes the NeonflowError's __cause__. verify_compute=True gives
        the preview a temporary endpoint for verify (Branch.host,
        Branch.connection_uri()), deleted before the switch."""
        return self._workflow("promote", "promote",
                              [("source", _b(source)), ("target", _b(target)),
                               ("auto_rollback", 1 if auto_rollback else None),
                               ("verify_compute", 1 if verify_compute else None)],
                              project_id, run_id, dry_run, timeout, cancel, on_event,
                              hooks=[("verify_hook", verify), ("after_switch_hook", after_switch)])

    def rollback(self, project_id, target="production", snapshot_id=None, snapshot_first=True,
                 **run):
        """Restores snapshot_id (default: the newest rollback point) onto target."""
        return self._workflow("rollback", "rollback",
                              [("target", _b(target)), ("snapshot_id", _b(snapshot_id)),
                               ("snapshot_first", 1 if snapshot_first else 0)],
                              project_id, **_run_args(run))

    def refresh(self, project_id, source="production", target="dev", delete_backup=False, verify=None,
                verify_compute=False, **run):
        """Replaces target (dev) with a fresh snapshot of source (production);
        verify and verify_compute as for promote."""
        return self._workflow("refresh", "refresh",
                              [("source", _b(source)), ("target", _b(target)),
                               ("delete_backup", 1 if delete_backup else None),
                               ("verify_compute", 1 if verify_compute else None)],
                              project_id, hooks=[("verify_hook", verify)], **_run_args(run))

    def connection_uri(self, project_id, branch_id=None, endpoint_id=None, database=None, role=None,
                       pooled=False):
        """The connection URI (str, holding a password) of a branch: by
        default the project's default branch, its only database and that
        database's owner (see neonflow_connection_uri_get)."""
        opts = _with_options("connection_uri", [
            ("branch_id", _b(branch_id)), ("endpoint_id", _b(endpoint_id)),
            ("database_name", _b(database)), ("role_name", _b(role)), ("pooled", 1 if pooled else None)])
        try:
            out, errp = _P(), _P()
            rc = _lib.neonflow_connection_uri_get(ctypes.byref(out), self._alive(), _b(project_id), opts, None,
                                                  ctypes.byref(errp))
            if rc != OK:
                raise NeonflowError._take(rc, errp)  # pylint: disable=protected-access
            try:
                return ctypes.string_at(out.value).decode()
            finally:
                _lib.neonflow_free(out.value)
        finally:
            _lib.neonflow_connection_uri_options_free(opts)

    def backups(self, project_id, target=None, kind=None, older_than_s=None, branches=True, snapshots=True,
                **run):
        """Lists backup branches and neonflow's snapshots (KEEP resources),
        optionally only one target's, one kind's, or those older than
        older_than_s seconds; branches/snapshots=False leaves that half out."""
        return self._workflow("backups_list", "backups_list",
                              [("target", _b(target)), ("kind", _b(kind)), ("older_than_s", older_than_s),
                               ("branches", 1 if branches else 0), ("snapshots", 1 if snapshots else 0)],
                              project_id, **_run_args(run))

    def prune(self, project_id, keep=None, older_than_s=None, **run):
        """Deletes backups by policy (dry_run=True shows the plan)."""
        return self._workflow("prune", "prune", [("keep_newest", keep), ("older_than_s", older_than_s)],
                              project_id, **_run_args(run))


def _run_args(run):
    allowed = ("run_id", "dry_run", "timeout", "cancel", "on_event")
    unknown = set(run) - set(allowed)
    if unknown:
        raise TypeError("unexpected arguments: %s" % ", ".join(sorted(unknown)))
    return {k: run.get(k, False if k == "dry_run" else None) for k in allowed}


def _with_options(kind, setters):
    """Creates neonflow_<kind>_options and applies the (setter, value) pairs
    whose value is not None; hook setters get (fn, NULL payload, NULL destroy):
    the Python closure itself carries the state."""
    lib = load_library()
    p = _P()
    _check(getattr(lib, "neonflow_%s_options_new" % kind)(ctypes.byref(p)))
    try:
        for name, value in setters:
            if value is None:
                continue
            setter = getattr(lib, "neonflow_%s_options_set_%s" % (kind, name))
            if name.endswith("_hook"):
                _check(setter(p.value, value, None, _NO_DESTROY))
            elif isinstance(value, tuple):
                _check(setter(p.value, *value))
            else:
                _check(setter(p.value, value))
    except BaseException:
        getattr(lib, "neonflow_%s_options_free" % kind)(p.value)
        raise
    return p.value
