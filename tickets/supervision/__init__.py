"""统一督办: notices (催办/督办/通报), the deadline scanner, problem tickets, the board."""
