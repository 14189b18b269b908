/**
 * A coarse outline of Brazil, drawn by hand for this dashboard from well-known places on its
 * coast and borders (capes, river mouths, border towns, tri-points): 71 vertices, good to about
 * half a degree, enough to place the simulated fleet without any map data or network.
 * Points are [longitude, latitude] in degrees, clockwise from Cabo Orange in the north.
 *
 * @module
 */

/** The outline's vertices, [longitude, latitude]. */
export const BRAZIL_OUTLINE = Object.freeze([
  // Atlantic coast, north to south
  [-51.6, 4.4], // Cabo Orange, Oiapoque
  [-51.0, 3.0],
  [-50.0, 1.8], // Amapá coast
  [-50.0, 0.0], // Amazon mouth
  [-48.5, -0.8], // Marajó, Belém
  [-46.5, -1.0],
  [-44.3, -2.5], // São Luís
  [-42.0, -2.7],
  [-40.0, -2.9],
  [-38.5, -3.7], // Fortaleza
  [-37.2, -4.9],
  [-35.3, -5.2], // Cabo de São Roque
  [-34.8, -7.1], // Cabo Branco, the easternmost point
  [-34.9, -8.1], // Recife
  [-35.7, -9.7], // Maceió
  [-37.0, -11.0], // Aracaju
  [-38.5, -13.0], // Salvador
  [-39.0, -14.8], // Ilhéus
  [-39.2, -17.7], // Caravelas
  [-40.3, -20.3], // Vitória
  [-41.0, -22.0],
  [-42.0, -22.9], // Cabo Frio
  [-43.2, -23.0], // Rio de Janeiro
  [-44.7, -23.4],
  [-46.3, -24.0], // Santos
  [-48.0, -25.2],
  [-48.5, -26.5],
  [-48.5, -27.6], // Florianópolis
  [-49.0, -28.6],
  [-50.2, -30.2],
  [-51.5, -31.8],
  [-53.4, -33.7], // Chuí, the southernmost point
  // Uruguay, Argentina, Paraguay
  [-53.4, -32.5], // Jaguarão
  [-55.5, -30.9], // Santana do Livramento
  [-57.6, -30.2], // Barra do Quaraí
  [-56.0, -28.8], // São Borja
  [-55.0, -27.8],
  [-53.8, -27.1],
  [-53.6, -26.2], // Dionísio Cerqueira
  [-54.6, -25.6], // Foz do Iguaçu
  [-54.3, -24.1], // Guaíra
  [-55.7, -22.5], // Ponta Porã
  [-57.8, -22.1], // Porto Murtinho
  [-57.7, -19.0], // Corumbá
  // Bolivia, Peru
  [-58.2, -17.5],
  [-60.2, -16.3],
  [-60.3, -13.7],
  [-62.5, -13.0],
  [-65.0, -11.9],
  [-65.3, -10.8], // Guajará-Mirim
  [-66.6, -9.9],
  [-68.7, -11.1], // Brasiléia
  [-70.6, -11.0], // Assis Brasil
  [-70.6, -9.5],
  [-72.3, -9.5],
  [-74.0, -7.5], // Serra do Divisor, the westernmost point
  [-73.0, -5.0],
  [-70.0, -4.3], // Tabatinga
  // Colombia, Venezuela, Guyana, Suriname, French Guiana
  [-69.4, -1.1],
  [-69.8, 1.0],
  [-66.8, 1.2], // Cucuí
  [-66.0, 0.8], // Pico da Neblina
  [-64.8, 2.5],
  [-64.0, 4.0],
  [-60.7, 5.2], // Monte Roraima, the northernmost point
  [-59.6, 4.0],
  [-59.8, 2.0],
  [-58.8, 1.3],
  [-56.5, 1.9],
  [-54.6, 2.3],
  [-52.5, 2.5],
].map((p) => Object.freeze(p)));
