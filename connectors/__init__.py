"""Everything that talks to a system outside: SCM (OData, packages), Entra ID and the CLM."""
