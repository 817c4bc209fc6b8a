"""A local emulator of SCM, Microsoft Entra ID and a CLM, and the synthetic-world generator."""
