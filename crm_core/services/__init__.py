"""The write side of the CRM: the only code that changes CRM data.

Every write follows one contract: validate the input (ValidationFailed, one message per field),
check the actor's permission (PermissionDenied), then in one transaction compare the version the
form showed (StaleRecord), change the row (its version bumps), append one audit entry per changed
field, and return the updated record or the ids it created.

Modules: `leads`, `deals`, `activities`, `tickets`, `targets`, `users` (admin: users and teams).
"""
