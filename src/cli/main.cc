#include <cstdio>
int main() { std::puts("propgrade"); return 0; }
