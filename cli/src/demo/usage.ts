/** Usage of `npm run demo` / `upshift demo` (here so the command table and completion need not load the demo). */
export const demoUsage = `Usage: npm run demo [-- --fail] [--rows n] [--documents n] [--soak seconds] [--scale fn=N,…]
  --fail        orders gets a target image whose pods never become Ready: its wave fails after the customers
                were migrated (customers-profile runs after the customers waves); the run rolls back,
                restoring the customers data and reverting the images (checksums before = after)
  --rows        PostgreSQL orders to seed (default 200000)
  --documents   MongoDB customers to seed (default 10000: FerretDB migrates a few hundred a second here)
  --soak        seconds each wave soaks (default 3: the demo policy is examples/policy.yaml, which soaks
                30 s as a production rollout would, with a short soak)
  --scale       processes per function, as \`upshift dev --scale\`: e.g. migrate-shard=4,rollout=2
`;
