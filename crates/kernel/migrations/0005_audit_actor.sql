-- The audit administrator's search by person (newest first) and by date.
CREATE INDEX kernel_audit_actor ON kernel_audit (actor, seq);
CREATE INDEX kernel_audit_at ON kernel_audit (at);
