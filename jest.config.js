/**
 * @swc/jest strips types without type-checking (npm run typecheck does that),
 * so each test file costs milliseconds to transform; node_modules are never
 * transformed (cdktf and the provider ship plain JavaScript).
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }] },
  testTimeout: 120000,
  // Makes the Python test peers ready once, before the workers start (support/peers.ts).
  globalSetup: "<rootDir>/__tests__/support/global-setup.ts",
  // Every core (jest leaves one idle by default): the Terraform gates wait on terraform, the unit tests on jest.
  maxWorkers: "100%",
};
