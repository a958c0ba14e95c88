module odoo-saas/tenant-gateway

go 1.22
