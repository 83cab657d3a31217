print("kafkatape")
