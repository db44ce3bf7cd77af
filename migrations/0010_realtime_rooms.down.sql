DROP TABLE socket_io_attachments;
ALTER TABLE rooms DROP COLUMN require_access_before_joining;
