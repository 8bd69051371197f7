module neonflow.example/neonflow

go 1.19
