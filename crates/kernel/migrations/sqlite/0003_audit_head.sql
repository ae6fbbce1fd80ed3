-- The chain's head follows each record as it is written, inside the database: one statement
-- (one round trip) less for every change of the system.
CREATE TRIGGER kernel_audit_head_follows AFTER INSERT ON kernel_audit
BEGIN
    UPDATE kernel_audit_head SET hash = NEW.hash WHERE id = 1;
END;
