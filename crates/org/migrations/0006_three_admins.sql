-- 三员分立 (等保 2.0): the one administrator role becomes the 系统管理员's. The security and
-- audit administrators are new roles, given by the security administrator (or `yiwang user`).
UPDATE org_user_roles SET role = 'sys_admin' WHERE role = 'admin';
