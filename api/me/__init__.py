"""Who am I: lets an integrator check a key and see its role and policy."""
